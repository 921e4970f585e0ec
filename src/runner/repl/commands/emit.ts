/**
 * `emit`, `broadcast` and `broadcastLocal`: send an event with a payload from `--key value`
 * words, JSON or `@file.json`, `--#key` meta and `--$key` options (`--$groups a,b`); print who
 * listens to it, so an event nobody receives does not pass unnoticed.
 *
 * @module
 */

import type { EmitOptions } from "../../../core/context.ts";
import type { ReplCommand, ReplContext } from "../command.ts";
import { errorBlock, show } from "../format.ts";
import { type ParsedWords, ReplUsageError } from "../line_args.ts";
import { payloadOf } from "./_params.ts";

type Method = "emit" | "broadcast" | "broadcastLocal";

function listeners(ctx: ReplContext, event: string, method: Method): string[] {
  const nodes = new Set<string>();
  for (const list of ctx.broker.registry.matchingEventLists(event)) {
    for (const ep of list.items) {
      if (method === "broadcastLocal" && !ep.local) continue;
      if (ep.node.available) nodes.add(ep.id);
    }
  }
  return [...nodes].sort();
}

async function send(ctx: ReplContext, words: ParsedWords, method: Method): Promise<void> {
  const { style } = ctx.out;
  const [event, json, metaJson, ...extra] = words.positionals;
  if (event === undefined) {
    throw new ReplUsageError(`usage: ${method} <eventName> [jsonPayload] [meta]`);
  }
  if (extra.length) {
    throw new ReplUsageError(`unexpected argument '${extra[0]}': quote JSON arguments, '{"a": 1}'`);
  }
  const payload = await payloadOf(words.params, json, metaJson, ctx.cwd);
  const options = { ...payload.options };
  if (typeof options.groups === "string") options.groups = options.groups.split(",");
  const meta = { ...payload.meta, $repl: true };
  const verb =
    { emit: "Emit", broadcast: "Broadcast", broadcastLocal: "Broadcast locally" }[method];
  const shownOptions = Object.keys(options).length
    ? ` ${style.yellow("with options:")} ${show(options, style)}`
    : "";
  ctx.out.print(
    `${style.yellow(`>> ${verb} '${event}' with payload:`)} ${show(payload.params, style)} ` +
      `${style.yellow("with meta:")} ${show(meta, style)}${shownOptions}`,
  );
  try {
    const send = ctx.broker[method].bind(ctx.broker) as (
      name: string,
      data: unknown,
      opts: EmitOptions,
    ) => Promise<void>;
    await send(event, payload.params, { ...(options as EmitOptions), meta });
  } catch (err) {
    ctx.out.print(errorBlock(err, style));
    return;
  }
  const nodes = listeners(ctx, event, method);
  ctx.out.print(
    nodes.length
      ? style.gray(`>> Listeners on ${nodes.length} node(s): ${nodes.join(", ")}`)
      : style.red(`>> No node listens to '${event}': nothing received it.`),
  );
}

const EXAMPLES = (verb: string) => [
  `${verb} user.created --id 5 --name John`,
  `${verb} user.created '{"id": 5}' --#tenant acme`,
  `${verb} user.created @user.json --$groups mail,audit`,
];

/** The `emit` command. */
export const emitCommand: ReplCommand = {
  name: "emit",
  usage: "<eventName> [jsonPayload] [meta]",
  description: "Emit an event (one listener per group)",
  freeParams: true,
  completes: "events",
  examples: EXAMPLES("emit"),
  run: (ctx, words) => send(ctx, words, "emit"),
};

/** The `broadcast` command. */
export const broadcastCommand: ReplCommand = {
  name: "broadcast",
  usage: "<eventName> [jsonPayload] [meta]",
  description: "Broadcast an event (every listener)",
  freeParams: true,
  completes: "events",
  examples: EXAMPLES("broadcast"),
  run: (ctx, words) => send(ctx, words, "broadcast"),
};

/** The `broadcastLocal` command. */
export const broadcastLocalCommand: ReplCommand = {
  name: "broadcastLocal",
  usage: "<eventName> [jsonPayload] [meta]",
  description: "Broadcast an event to this node's listeners only",
  freeParams: true,
  completes: "events",
  run: (ctx, words) => send(ctx, words, "broadcastLocal"),
};
