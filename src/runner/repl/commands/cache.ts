/**
 * `cache keys` and `cache clear [pattern]`: the keys of this node's cacher, and clearing them
 * (all, or those matching a pattern). `clear [pattern]` is moleculer-repl's older spelling of
 * `cache clear`.
 *
 * @module
 */

import type { ReplCommand, ReplContext } from "../command.ts";
import { errorBlock } from "../format.ts";
import type { ParsedWords } from "../line_args.ts";
import { renderTable } from "../table.ts";
import { filterFlag, nameFilter } from "./_filter.ts";

/** A cacher that can list its keys (Moleculer's `getCacheKeys`). */
interface ListingCacher {
  getCacheKeys(): Promise<CacheKeyEntry[]> | CacheKeyEntry[];
}

interface CacheKeyEntry {
  key: string;
  expiresAt?: number | null;
}

const canList = (c: unknown): c is ListingCacher =>
  typeof (c as Partial<ListingCacher> | null)?.getCacheKeys === "function";

async function keys(ctx: ReplContext, { flags }: ParsedWords): Promise<void> {
  const { style } = ctx.out;
  const cacher = ctx.broker.cacher;
  if (!cacher) {
    ctx.out.print(style.red("No cacher."));
    return;
  }
  if (!canList(cacher)) {
    ctx.out.print(style.yellow(`Cacher is not compatible. Missing 'getCacheKeys' method.`));
    return;
  }
  const show = nameFilter(flags.filter);
  let entries: CacheKeyEntry[];
  try {
    entries = await cacher.getCacheKeys();
  } catch (err) {
    ctx.out.print(errorBlock(err, style));
    return;
  }
  const rows = entries
    .filter((e) => show(e.key))
    .sort((a, b) => a.key.localeCompare(b.key))
    .map((e) => [e.key, e.expiresAt ? new Date(e.expiresAt).toISOString() : style.gray("never")]);
  ctx.out.print(renderTable(style, ["Key", "Expires at"], rows));
}

async function clean(ctx: ReplContext, { positionals }: ParsedWords): Promise<void> {
  const { style } = ctx.out;
  const cacher = ctx.broker.cacher;
  if (!cacher) {
    ctx.out.print(style.red("No cacher."));
    return;
  }
  const [pattern] = positionals;
  try {
    await cacher.clean(pattern);
  } catch (err) {
    ctx.out.print(errorBlock(err, style));
    return;
  }
  ctx.out.print(
    style.yellow(pattern ? "Cacher cleared entries by pattern." : "Cacher cleared all entries."),
  );
}

/** The `cache` command and its sub-commands. */
export const cacheCommand: ReplCommand = {
  name: "cache",
  usage: "keys|clear",
  description: "Manage this node's cache",
  subcommands: [
    {
      name: "keys",
      description: "List keys of cache entries",
      flags: [filterFlag("'users.**'")],
      run: keys,
    },
    {
      name: "clear",
      usage: "[pattern]",
      description: "Clear cache entries (all, or those matching a pattern like 'users.**')",
      run: clean,
    },
  ],
};

/** The `clear` command: moleculer-repl's older spelling of `cache clear`. */
export const clearCommand: ReplCommand = {
  name: "clear",
  usage: "[pattern]",
  description: "Clear cache entries (the same as cache clear)",
  run(ctx, words) {
    ctx.out.print(
      ctx.out.style.yellow("The 'clear' command is deprecated. Use the 'cache clear' instead."),
    );
    return clean(ctx, words);
  },
};
