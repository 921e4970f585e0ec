// Run: deno run -A examples/gateway.ts   then try:
//   curl localhost:3000/api/users
//   curl localhost:3000/api/users/1
//   curl -X POST -H 'Content-Type: application/json' -d '{"name":"Cid"}' localhost:3000/api/users
//   curl localhost:3000/api/greeter/hello/Ann          (an auto alias from the action's `rest`)
//   curl -H 'Authorization: Bearer secret' localhost:3000/api/me
//
// An API gateway in front of two services, as moleculer-web would put it: REST aliases, an
// auto alias, a token check, and the ctx.meta conventions for status codes and headers. Add
// `transporter: "nats://127.0.0.1:4222"` to the broker to serve the actions of a whole cluster.

import { type Context, MoleculerClientError, ServiceBroker } from "../mod.ts";
import { ApiGateway, type GatewayRequest, UnAuthorizedError } from "../src/gateway/mod.ts";

const users = [{ id: 1, name: "Ann" }, { id: 2, name: "Bob" }];

const broker = new ServiceBroker({ nodeID: "gateway-example" });

broker.createService({
  name: "users",
  actions: {
    list: () => users,
    get: {
      params: { id: { type: "number", convert: true } },
      handler(ctx: Context<{ id: number }>) {
        const user = users.find((u) => u.id === ctx.params.id);
        if (!user) throw new MoleculerClientError("No such user", 404, "USER_NOT_FOUND");
        return user;
      },
    },
    create: {
      params: { name: "string" },
      handler(ctx: Context<{ name: string }>) {
        const user = { id: users.length + 1, name: ctx.params.name };
        users.push(user);
        ctx.meta.$statusCode = 201;
        ctx.meta.$location = `/api/users/${user.id}`;
        return user;
      },
    },
    me: (ctx: Context) => ({ you: ctx.meta.user }),
  },
});

broker.createService({
  name: "greeter",
  actions: {
    hello: {
      rest: "GET /hello/:name",
      handler(ctx: Context<{ name: string }>) {
        ctx.meta.$responseType = "text/plain; charset=utf-8";
        return `Hello, ${ctx.params.name}!`;
      },
    },
  },
});

broker.createService({
  name: "api",
  mixins: [ApiGateway],
  settings: {
    port: 3000,
    routes: [{
      path: "/api",
      aliases: {
        "REST users": { action: "users", only: ["list", "get", "create"] },
        "GET me": "users.me",
      },
      autoAliases: true,
      authentication: true,
      cors: { origin: "*" },
    }],
  },
  methods: {
    authenticate(_ctx: Context, _route: unknown, req: GatewayRequest) {
      const auth = req.headers["authorization"];
      if (!auth) return null;
      if (auth !== "Bearer secret") throw new UnAuthorizedError();
      return { name: "token holder" };
    },
  },
});

await broker.start();
await broker.waitForShutdown();
