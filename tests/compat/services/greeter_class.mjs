// A service written as Moleculer's docs show ES6 classes (0.15, "Services" → "ES6 classes"):
// `super(broker)`, then `this.parseServiceSchema({...})` with class methods as handlers. The
// body is plain Moleculer code; only where `Service` comes from differs, so the file takes it.
export function defineGreeter(Service) {
  return class GreeterService extends Service {
    constructor(broker) {
      super(broker);
      this.parseServiceSchema({
        name: "greeter",
        version: "v2",
        meta: { scalable: true },
        settings: { upperCase: true },
        actions: {
          hello: this.hello,
          welcome: {
            cache: { keys: ["name"] },
            params: { name: "string" },
            handler: this.welcome,
          },
          tick: this.tick,
          inspect: this.inspect,
        },
        events: {
          "user.created": this.userCreated,
        },
        methods: {
          shout: { handler: this.shout },
        },
        created: this.serviceCreated,
        started: this.serviceStarted,
        stopped: this.serviceStopped,
      });
    }

    hello() {
      return "Hello Moleculer";
    }

    welcome(ctx) {
      return this.sayWelcome(ctx.params.name);
    }

    sayWelcome(name) {
      this.logger.info("Say hello to", name);
      return this.shout(`Welcome, ${name}`);
    }

    shout(text) {
      return this.settings.upperCase ? text.toUpperCase() : text;
    }

    async tick() {
      await this.emitLocalEventHandler("user.created", { id: 7 });
      return this.seen;
    }

    async inspect() {
      await this.waitForServices(["v2.greeter"], 1000);
      return {
        fullName: this.fullName,
        version: this.version,
        hasBroker: this.broker != null,
        // Moleculer's is the global Promise; Denolecular's a subclass that leaves the global alone.
        promiseMakesPromises: this.Promise.resolve(1) instanceof Promise,
        unknownEvent: await this.emitLocalEventHandler("nope").catch((e) => [e.name, e.type]),
      };
    }

    userCreated(ctx) {
      this.seen.push(ctx.params.id);
    }

    serviceCreated() {
      this.seen = [];
      this.logger.info("ES6 Service created.");
    }

    serviceStarted() {
      this.seen.push("started");
    }

    serviceStopped() {}
  };
}
