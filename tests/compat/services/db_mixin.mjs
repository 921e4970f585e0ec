// A mixin in the shape of moleculer-db's DbService (an in-memory adapter): settings with a
// secret, CRUD actions with params, methods as functions and as { handler } objects, and a
// `merged` hook that reads the merged schema, as moleculer-db's REST add-ons do. Plain
// Moleculer code: it runs unedited on Moleculer 0.15 and on Denolecular.
export const DbMixin = {
  settings: {
    idField: "_id",
    fields: null,
    pageSize: 10,
    dbPassword: "mixin-secret",
    $secureSettings: ["dbPassword"],
  },
  actions: {
    find: {
      params: { limit: { type: "number", integer: true, min: 0, optional: true, convert: true } },
      handler(ctx) {
        const limit = ctx.params.limit ?? this.settings.pageSize;
        return this.transformDocuments([...this.store.values()].slice(0, limit));
      },
    },
    count() {
      return this.store.size;
    },
    get: {
      params: { id: "number" },
      handler(ctx) {
        return this.transformDocuments(this.getById(ctx.params.id));
      },
    },
    create: {
      params: { title: { type: "string", min: 3 } },
      hooks: {
        after(_ctx, doc) {
          this.journal.push(`mixin after create ${doc._id}`);
          return doc;
        },
      },
      handler(ctx) {
        return this.insert(ctx.params);
      },
    },
    remove: {
      params: { id: "number" },
      handler(ctx) {
        return this.store.delete(ctx.params.id);
      },
    },
  },
  events: {
    "db.reset"() {
      this.store.clear();
      this.journal.push("mixin reset");
    },
  },
  methods: {
    getById: {
      handler(id) {
        return this.store.get(id) ?? null;
      },
    },
    insert(doc) {
      const saved = { ...doc, _id: ++this.seq };
      this.store.set(saved._id, saved);
      return saved;
    },
    transformDocuments(docs) {
      const fields = this.settings.fields;
      const pick = (d) => d && fields ? Object.fromEntries(fields.map((f) => [f, d[f]])) : d;
      return Array.isArray(docs) ? docs.map(pick) : pick(docs);
    },
  },
  merged(schema) {
    // Announce the REST routes of the merged actions (moleculer-db-rest style).
    if (schema.settings && schema.settings.rest) {
      for (const [name, action] of Object.entries(schema.actions)) {
        if (action && typeof action === "object") action.rest = `${schema.settings.rest}/${name}`;
      }
    }
  },
  created() {
    this.store = new Map();
    this.seq = 0;
    this.journal = ["mixin created"];
  },
  started() {
    for (const doc of this.settings.seed ?? []) this.insert(doc);
    this.journal.push("mixin started");
  },
};

// The service that uses it: overrides one handler (the mixin's params must survive), adds a
// hook to another, removes one action, adds its own secret, fields and seed data.
export const PostsService = {
  name: "posts",
  mixins: [DbMixin],
  settings: {
    fields: ["_id", "title"],
    rest: "/posts",
    apiKey: "svc-secret",
    $secureSettings: ["apiKey"],
    seed: [{ title: "First post", author: "ann" }, { title: "Second post", author: "bob" }],
  },
  actions: {
    create: {
      hooks: {
        after(_ctx, doc) {
          this.journal.push(`own after create ${doc._id}`);
          return doc;
        },
      },
      handler(ctx) {
        return this.insert({ ...ctx.params, title: ctx.params.title.toUpperCase() });
      },
    },
    get: {
      hooks: {
        after(_ctx, doc) {
          return doc && { ...doc, viewed: true };
        },
      },
    },
    remove: false,
    journal() {
      return this.journal;
    },
    routes() {
      return Object.fromEntries(
        Object.entries(this.schema.actions).filter(([, a]) => a && a.rest).map((
          [name, a],
        ) => [name, a.rest]),
      );
    },
  },
  events: {
    "db.reset"() {
      this.journal.push("own reset");
    },
  },
  created() {
    this.journal.push("own created");
  },
  started() {
    this.journal.push("own started");
  },
};
