/**
 * `call` and `dcall`: call an action (on a given node with `dcall`) with params from
 * `--key value` words, JSON or `@file.json`, `--#key` meta and `--$key` call options; print the
 * response and the time it took. `--load`/`--loadFull` read params from a file, `--save` writes
 * the response to one.
 *
 * @module
 */

import { resolve } from "node:path";
import { DEFAULT_CALL_TIMEOUT } from "../../commands.ts";
import type { CallOptions } from "../../../core/context.ts";
import type { ReplCommand, ReplContext } from "../command.ts";
import { duration, errorBlock, show } from "../format.ts";
import { type FlagSpec, type ParsedWords, ReplUsageError } from "../line_args.ts";
import { jsonArgument, type Payload, payloadOf } from "./_params.ts";

const FLAGS: readonly FlagSpec[] = [
  {
    name: "load",
    kind: "optional",
    value: "[filename]",
    description: "load params from a file (default <actionName>.params.json)",
  },
  {
    name: "loadFull",
    kind: "optional",
    value: "[filename]",
    description:
      'load params, meta and options from a file: {"params": {}, "meta": {}, "options": {}}',
  },
  {
    name: "save",
    kind: "optional",
    value: "[filename]",
    description:
      "save the response to a file (default <actionName>.response.json, or .txt for text)",
  },
];

/**
 * The timeout of a REPL call: `--$timeout`, else the broker's `requestTimeout`, else 10 s, so
 * a call to a node that went away never leaves the REPL waiting.
 *
 * @param ctx The session.
 * @param options The call's `$` options.
 * @returns Milliseconds.
 */
export function replTimeout(ctx: ReplContext, options: Record<string, unknown>): number {
  const given = options.timeout;
  if (given !== undefined) {
    if (typeof given !== "number" || !(given > 0)) {
      throw new ReplUsageError(
        `--$timeout needs a number of milliseconds > 0, got ${String(given)}`,
      );
    }
    return given;
  }
  return ctx.broker.options.requestTimeout || DEFAULT_CALL_TIMEOUT;
}

async function fromFile(
  ctx: ReplContext,
  flag: string | boolean,
  fallback: string,
): Promise<unknown> {
  const file = typeof flag === "string" ? flag : fallback;
  const value = await jsonArgument(`@${file}`, "params", ctx.cwd);
  ctx.out.print(ctx.out.style.magenta(`>> Load params from '${resolve(ctx.cwd, file)}' file.`));
  return value;
}

async function call(ctx: ReplContext, words: ParsedWords, direct: boolean): Promise<void> {
  const { style } = ctx.out;
  const args = [...words.positionals];
  const nodeID = direct ? args.shift() : undefined;
  const [action, json, metaJson, ...extra] = args;
  if (action === undefined || (direct && nodeID === undefined)) {
    throw new ReplUsageError(
      direct
        ? "usage: dcall <nodeID> <actionName> [jsonParams] [meta]"
        : "usage: call <actionName> [jsonParams] [meta]",
    );
  }
  if (extra.length) {
    throw new ReplUsageError(`unexpected argument '${extra[0]}': quote JSON arguments, '{"a": 1}'`);
  }
  const payload: Payload = await payloadOf(words.params, json, metaJson, ctx.cwd);
  const { flags } = words;
  if (flags.load !== undefined) {
    payload.params = await fromFile(ctx, flags.load, `${action}.params.json`);
  }
  if (flags.loadFull !== undefined) {
    const full = await fromFile(ctx, flags.loadFull, `${action}.params.json`) as
      | Record<string, unknown>
      | null;
    if (typeof full !== "object" || full === null) {
      throw new ReplUsageError("--loadFull needs a JSON object {params, meta, options}");
    }
    payload.params = full.params ?? {};
    payload.meta = (full.meta ?? {}) as Record<string, unknown>;
    payload.options = (full.options ?? {}) as Record<string, unknown>;
  }
  const options = { ...payload.options };
  let target = nodeID;
  if (options.local !== undefined) {
    delete options.local;
    target = ctx.broker.nodeID;
  }
  if (
    target !== undefined && target !== ctx.broker.nodeID &&
    !ctx.broker.registry.nodes.get(target)?.available
  ) {
    ctx.out.print(style.red(`>> Node '${target}' is not available.`));
    return;
  }
  const timeout = replTimeout(ctx, options);
  const meta = { ...payload.meta, $repl: true };
  const shownOptions = Object.keys(options).length
    ? ` ${style.yellow("with options:")} ${show(options, style)}`
    : "";
  ctx.out.print(
    `${style.yellow(`>> Call '${action}'${target ? ` on ${target}` : ""} with params:`)} ${
      show(payload.params, style)
    } ` +
      `${style.yellow("with meta:")} ${show(meta, style)}${shownOptions}`,
  );
  const started = performance.now();
  let res: unknown;
  try {
    res = await ctx.broker.call(action, payload.params, {
      ...(options as CallOptions),
      timeout,
      meta,
      ...(target !== undefined ? { nodeID: target } : {}),
    });
  } catch (err) {
    ctx.out.print(errorBlock(err, style));
    return;
  }
  ctx.out.print(style.cyan(`>> Execution time: ${duration(performance.now() - started)}`));
  ctx.out.print(style.yellow(">> Response:"));
  ctx.out.print(show(res, style));
  if (flags.save !== undefined && res !== undefined && res !== null) {
    const isText = typeof res !== "object";
    const file = resolve(
      ctx.cwd,
      typeof flags.save === "string" ? flags.save : `${action}.response.${isText ? "txt" : "json"}`,
    );
    await Deno.writeTextFile(file, isText ? String(res) : JSON.stringify(res, null, 4));
    ctx.out.print(style.magenta(`>> Response has been saved to '${file}' file.`));
  }
}

const EXAMPLES = [
  "call greeter.hello --name John",
  "call math.add --a 5 --b 3 --#tenant acme --$timeout 500",
  `call users.create '{"name": "Ann", "tags": ["a"]}' '{"auth": "x"}'`,
  "call users.create @user.json",
  "call users.find --$local --query.age 30      (--$local: call it on this node)",
];

/** The `call` command. */
export const callCommand: ReplCommand = {
  name: "call",
  usage: "<actionName> [jsonParams] [meta]",
  description: "Call an action",
  flags: FLAGS,
  freeParams: true,
  completes: "actions",
  examples: EXAMPLES,
  run: (ctx, words) => call(ctx, words, false),
};

/** The `dcall` command. */
export const dcallCommand: ReplCommand = {
  name: "dcall",
  usage: "<nodeID> <actionName> [jsonParams] [meta]",
  description: "Direct call an action on a node",
  flags: FLAGS,
  freeParams: true,
  completes: "nodeActions",
  examples: ["dcall node-2 greeter.hello --name John"],
  run: (ctx, words) => call(ctx, words, true),
};
