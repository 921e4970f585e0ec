/**
 * `listener add|remove|list`: make the REPL's node listen to events and print each one that
 * arrives. As in moleculer-repl, the listeners are the events of one local service,
 * `$repl-event-listener`, made again (and announced to the cluster) on every change.
 *
 * @module
 */

import type { Context } from "../../../core/context.ts";
import type { ServiceSchema } from "../../../core/schema.ts";
import type { ReplCommand, ReplContext } from "../command.ts";
import { errorBlock, show } from "../format.ts";
import { type ParsedWords, ReplUsageError } from "../line_args.ts";
import { renderTable } from "../table.ts";

/** The name of the service holding the REPL's listeners (moleculer-repl's). */
export const LISTENER_SERVICE = "$repl-event-listener";

interface Listener {
  readonly eventName: string;
  readonly group: string | undefined;
}

/** The listeners of each broker's session (one per broker: a REPL and its node). */
const sessions = new WeakMap<object, Listener[]>();

function listenersOf(ctx: ReplContext): Listener[] {
  let list = sessions.get(ctx.broker);
  if (!list) sessions.set(ctx.broker, list = []);
  return list;
}

function schemaOf(ctx: ReplContext, list: readonly Listener[]): ServiceSchema {
  const events: NonNullable<ServiceSchema["events"]> = {};
  for (const l of list) {
    events[l.eventName] = {
      ...(l.group !== undefined ? { group: l.group } : {}),
      handler(c: Context) {
        const { style } = ctx.out;
        ctx.out.notify(
          `${
            style.yellow(`>> Listener '${l.eventName}' received '${c.eventName}'`)
          } from ${c.nodeID} ` +
            `${style.yellow("with params:")} ${show(c.params, style)} ${
              style.yellow("with meta:")
            } ${show(c.meta, style)}`,
        );
      },
    };
  }
  return { name: LISTENER_SERVICE, events };
}

/** Replace the listener service with one holding `list` (none when it is empty). */
async function rebuild(ctx: ReplContext, list: readonly Listener[]): Promise<void> {
  if (ctx.broker.getLocalService(LISTENER_SERVICE)) {
    await ctx.broker.destroyService(LISTENER_SERVICE);
  }
  if (list.length) await ctx.broker.register(schemaOf(ctx, list));
}

async function add(ctx: ReplContext, { positionals, flags }: ParsedWords): Promise<void> {
  const { style } = ctx.out;
  const [eventName] = positionals;
  if (eventName === undefined) {
    throw new ReplUsageError("usage: listener add <eventName> [--group <name>]");
  }
  const group = typeof flags.group === "string" ? flags.group : undefined;
  const list = listenersOf(ctx);
  if (list.some((l) => l.eventName === eventName)) {
    ctx.out.print(
      style.red(
        `>> ERROR: The REPL already listens to '${eventName}' (listener remove ${eventName} first)`,
      ),
    );
    return;
  }
  const next = [...list, { eventName, group }];
  try {
    await rebuild(ctx, next);
  } catch (err) {
    ctx.out.print(errorBlock(err, style));
    return;
  }
  list.push({ eventName, group });
  ctx.out.print(
    `${style.yellow("REPL started listening to event:")} ${eventName}` +
      (group !== undefined ? ` ${style.yellow("belonging to group:")} ${group}` : ""),
  );
}

async function remove(ctx: ReplContext, { positionals }: ParsedWords): Promise<void> {
  const { style } = ctx.out;
  const [eventName] = positionals;
  if (eventName === undefined) throw new ReplUsageError("usage: listener remove <eventName>");
  const list = listenersOf(ctx);
  const at = list.findIndex((l) => l.eventName === eventName);
  if (at < 0) {
    ctx.out.print(style.red(`>> ERROR: Event listener '${eventName}' not found`));
    return;
  }
  list.splice(at, 1);
  try {
    await rebuild(ctx, list);
  } catch (err) {
    ctx.out.print(errorBlock(err, style));
    return;
  }
  ctx.out.print(`${style.yellow("REPL stopped listening to:")} ${eventName}`);
}

function listAll(ctx: ReplContext): void {
  const { style } = ctx.out;
  const list = listenersOf(ctx);
  if (list.length === 0) {
    ctx.out.print(style.yellow(">> REPL is listening to no event (listener add <eventName>)"));
    return;
  }
  ctx.out.print(style.yellow(">> REPL is listening to:"));
  ctx.out.print(
    renderTable(
      style,
      ["Event", "Group"],
      list.map((l) => [l.eventName, l.group ?? style.gray(LISTENER_SERVICE)]),
    ),
  );
}

/** The `listener` command and its sub-commands. */
export const listenerCommand: ReplCommand = {
  name: "listener",
  usage: "add|remove|list",
  description: "Add, remove or list the REPL's event listeners",
  subcommands: [
    {
      name: "add",
      usage: "<eventName>",
      description: "Listen to an event (wildcards work: 'user.*') and print each one",
      flags: [{
        name: "group",
        kind: "string",
        value: "<groupName>",
        description: "the listener's group",
      }],
      completes: "events",
      run: add,
    },
    {
      name: "remove",
      usage: "<eventName>",
      description: "Stop listening to an event",
      run: remove,
    },
    { name: "list", description: "List the events the REPL listens to", run: listAll },
  ],
};
