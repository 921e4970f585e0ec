// A user's program typed by the declarations `denolecular types` wrote from a live cluster
// (copied beside services.d.ts in a project that links the checkout).
import { ServiceBroker } from "@denolecular/denolecular";
import type {} from "./services.d.ts";

const broker = new ServiceBroker({ logger: false });
const found = await broker.call("v2.catalog.find", {
  query: "lamp",
  sort: "price",
  tags: ["desk"],
  filter: { min: 10 },
});
// Results are `unknown` (INFO carries no result types): narrowing is the caller's.
if (Array.isArray(found)) console.log(found.length);
await broker.call("v2.catalog.count");
await broker.emit("catalog.updated", { id: 1 });
await broker.broadcast("catalog.updated", { id: 1, fields: ["price"] });
