// Class-style service with decorators. Run: deno run -A cli.ts examples/services
import { action, type Context, event, method, Service } from "../../mod.ts";

/** Greets people, and remembers how many it greeted. */
export default class GreeterService extends Service {
  #greeted = 0;

  constructor() {
    super({ name: "greeter", settings: { greeting: "Hello" } });
  }

  /** `greeter.hello { name }` → "Hello, <name>!" */
  @action({ params: { name: { type: "string", min: 1 } } })
  hello(ctx: Context<{ name: string }>): string {
    this.#greeted++;
    return this.format(ctx.params.name);
  }

  /** `greeter.welcome { name }` → a welcome that calls math.add on whichever node serves it. */
  @action({ params: ["name"] })
  async welcome(ctx: Context<{ name: string }>): Promise<string> {
    const count = await ctx.call<number>("math.add", {
      a: this.#greeted,
      b: 1,
    });
    this.#greeted = count;
    await ctx.emit("greeter.welcomed", { name: ctx.params.name, count });
    return `Welcome, ${ctx.params.name}! You are visitor #${count}.`;
  }

  /** `greeter.stats` → how many were greeted on this node. */
  @action()
  stats(): { greeted: number } {
    return { greeted: this.#greeted };
  }

  @event({ name: "user.created" })
  onUserCreated(ctx: Context<{ name?: string }>): void {
    this.logger.info(`A user was created: ${ctx.params.name ?? "(no name)"}`);
  }

  @method
  format(name: string): string {
    return `${this.settings.greeting}, ${name}!`;
  }
}
