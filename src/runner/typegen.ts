/**
 * Declarations from a cluster's INFO: every action and event other nodes announce, with its
 * fastest-validator params turned into a TypeScript type, as entries of `ServiceActions` and
 * `ServiceEvents` (see `src/core/typed.ts`). INFO carries no result types, so results are
 * `unknown`: the caller narrows them (or declares the action itself).
 *
 * The rules mirror `ParamsFromSchema` of `src/core/typed.ts`, which types local schemas: a
 * remote and a local declaration of the same schema give the same type.
 *
 * @module
 */

/** The announcement of one service, as INFO carries it. */
export interface AnnouncedService {
  /** The service name. */
  readonly name: string;
  /** Full name, e.g. `v2.greeter`. */
  readonly fullName?: string | undefined;
  /** Actions by full name. */
  readonly actions?: Readonly<Record<string, Readonly<Record<string, unknown>>>> | undefined;
  /** Events by name. */
  readonly events?: Readonly<Record<string, Readonly<Record<string, unknown>>>> | undefined;
}

/** One node's announcement. */
export interface AnnouncedNode {
  /** The node id. */
  readonly id: string;
  /** `{ type, version }` of its Moleculer implementation. */
  readonly client?: Readonly<Record<string, unknown>> | undefined;
  /** Its services. */
  readonly services: readonly AnnouncedService[];
}

/** Options of {@linkcode declarationsFor}. */
export interface DeclarationOptions {
  /** The specifier the application imports denolecular by, augmented by the declarations. */
  readonly module: string;
  /** The command line that made them, written in the header. */
  readonly command?: string | undefined;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function key(name: string): string {
  return IDENT.test(name) ? name : JSON.stringify(name);
}

function literal(value: unknown): string {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    return JSON.stringify(value);
  }
  if (value === null) return "null";
  return "unknown";
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const NAMED: Record<string, string> = {
  string: "string",
  email: "string",
  url: "string",
  uuid: "string",
  objectID: "string",
  number: "number",
  boolean: "boolean",
  date: "Date",
  array: "unknown[]",
  object: "Record<string, unknown>",
  null: "null",
  any: "unknown",
};

function named(type: string): string {
  return NAMED[type.trim()] ?? "unknown";
}

function union(types: string[]): string {
  const unique = [...new Set(types)];
  if (unique.includes("unknown")) return "unknown";
  return unique.length === 0 ? "never" : unique.join(" | ");
}

/**
 * The TypeScript type a fastest-validator rule accepts.
 *
 * @param rule A rule: `"number|optional"`, `{ type: "array", items: "string" }`, an array of rules…
 * @param indent The indentation of the line the type starts on.
 * @returns The type's source text.
 */
export function ruleType(rule: unknown, indent = ""): string {
  if (typeof rule === "string") return named(rule.split("|")[0]!);
  if (Array.isArray(rule)) return union(rule.map((r) => ruleType(r, indent)));
  if (!isRecord(rule)) return "unknown";
  const type = typeof rule.type === "string" ? rule.type : "any";
  switch (type) {
    case "object":
      return isRecord(rule.props) ? paramsType(rule.props, indent) : named("object");
    case "array": {
      if (rule.items === undefined) return "unknown[]";
      const item = ruleType(rule.items, indent);
      return /^[\w.]+$/.test(item) ? `${item}[]` : `Array<${item}>`;
    }
    case "enum":
      return Array.isArray(rule.values) ? union(rule.values.map(literal)) : "unknown";
    case "equal":
      return "value" in rule ? literal(rule.value) : "unknown";
    case "multi":
      return Array.isArray(rule.rules)
        ? union(rule.rules.map((r) => ruleType(r, indent)))
        : "unknown";
    default:
      return named(type);
  }
}

/**
 * True when a caller may leave the key out: `optional: true`, a `default`, or `|optional`.
 *
 * @param rule A fastest-validator rule.
 * @returns Whether the key is optional.
 */
export function ruleOptional(rule: unknown): boolean {
  if (typeof rule === "string") {
    return rule.split("|").slice(1).some((f) => f.trim() === "optional");
  }
  if (!isRecord(rule)) return false;
  return rule.optional === true || "default" in rule;
}

/**
 * The TypeScript type a params schema accepts: a fastest-validator schema (`$$` keys are its
 * options, not params) or an array of required keys.
 *
 * @param schema The `params` of an action or event definition.
 * @param indent The indentation of the line the type starts on.
 * @returns The type's source text, e.g. `{ a: number; b?: string }` over several lines.
 */
export function paramsType(schema: unknown, indent = ""): string {
  if (Array.isArray(schema)) {
    const keys = schema.filter((k): k is string => typeof k === "string");
    return keys.length === 0
      ? "Record<string, unknown>"
      : `{ ${keys.map((k) => `${key(k)}: unknown`).join("; ")} }`;
  }
  if (!isRecord(schema)) return "unknown";
  const entries = Object.entries(schema).filter(([k]) => !k.startsWith("$$"));
  if (entries.length === 0) return "Record<string, unknown>";
  const inner = indent + "  ";
  const lines = entries.map(([k, rule]) =>
    `${inner}${key(k)}${ruleOptional(rule) ? "?" : ""}: ${ruleType(rule, inner)};`
  );
  return `{\n${lines.join("\n")}\n${indent}}`;
}

function header(options: DeclarationOptions, nodes: readonly AnnouncedNode[]): string[] {
  const from = nodes.map((n) => {
    const c = n.client ?? {};
    const client = [c.type, c.version].filter((x) => typeof x === "string").join(" ");
    return `${n.id}${client ? ` (${client})` : ""}`;
  });
  return [
    "// Generated by `denolecular types`: the actions and events the cluster's nodes announce.",
    ...(options.command ? [`// Regenerate with: ${options.command}`] : []),
    `// Nodes: ${from.length ? from.join(", ") : "none"}`,
    "// Params come from each definition's fastest-validator schema; results are `unknown`, as",
    "// INFO carries no result types. Do not edit: declare an action yourself to type its result.",
  ];
}

/**
 * The declarations file for the services of some nodes: `ServiceActions` and `ServiceEvents`
 * entries in a module augmentation of `options.module`. Internal services (`$node`) and
 * wildcard event subscriptions are left out; an action served by several nodes is written once
 * (the first definition with params wins).
 *
 * @param nodes The nodes' announcements.
 * @param options The module to augment and the header.
 * @returns The file's text.
 */
export function declarationsFor(
  nodes: readonly AnnouncedNode[],
  options: DeclarationOptions,
): string {
  const actions = new Map<string, Readonly<Record<string, unknown>>>();
  const events = new Map<string, Readonly<Record<string, unknown>>>();
  for (const node of nodes) {
    for (const svc of node.services) {
      if ((svc.fullName ?? svc.name).startsWith("$")) continue;
      for (const [name, def] of Object.entries(svc.actions ?? {})) {
        if (!actions.has(name) || (actions.get(name)!.params === undefined && def.params)) {
          actions.set(name, def);
        }
      }
      for (const [name, def] of Object.entries(svc.events ?? {})) {
        if (name.includes("*") || name.startsWith("$")) continue;
        if (!events.has(name) || (events.get(name)!.params === undefined && def.params)) {
          events.set(name, def);
        }
      }
    }
  }
  const sorted = <T>(m: Map<string, T>) => [...m].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
  const entry = (name: string, def: Readonly<Record<string, unknown>>, withResult: boolean) => {
    const params = def.params === undefined ? "unknown" : paramsType(def.params, "      ");
    return [
      `    ${JSON.stringify(name)}: {`,
      `      params: ${params};`,
      ...(withResult ? ["      result: unknown;"] : []),
      "    };",
    ].join("\n");
  };
  return [
    ...header(options, nodes),
    "",
    "export {};",
    "",
    `declare module ${JSON.stringify(options.module)} {`,
    "  interface ServiceActions {",
    ...sorted(actions).map(([n, d]) => entry(n, d, true)),
    "  }",
    "  interface ServiceEvents {",
    ...sorted(events).map(([n, d]) => entry(n, d, false)),
    "  }",
    "}",
    "",
  ].join("\n");
}
