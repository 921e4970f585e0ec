// The same program with one mistake per line; each must be a compile error.
import { ServiceBroker } from "@denolecular/denolecular";
import type {} from "./services.d.ts";

const broker = new ServiceBroker({ logger: false });
// @ts-expect-error sort is an enum of "price" | "name"
await broker.call("v2.catalog.find", {
  query: "x",
  sort: "rating",
  tags: [],
  filter: { min: 1 },
});
// @ts-expect-error tags holds strings
await broker.call("v2.catalog.find", {
  query: "x",
  sort: "name",
  tags: [1],
  filter: { min: 1 },
});
// @ts-expect-error filter.min is required
await broker.call("v2.catalog.find", {
  query: "x",
  sort: "name",
  tags: [],
  filter: {},
});
// @ts-expect-error $$strict: an unknown key
await broker.call("v2.catalog.find", {
  query: "x",
  sort: "name",
  tags: [],
  filter: { min: 1 },
  x: 1,
});
// @ts-expect-error the event's id is a number
await broker.emit("catalog.updated", { id: "1" });
// @ts-expect-error the result is unknown until narrowed
(await broker.call("v2.catalog.count")).toFixed();
