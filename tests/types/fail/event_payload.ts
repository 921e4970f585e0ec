// expect: TS2769 "'name' does not exist in type '{ id: number; }'"
import { ServiceBroker } from "../../../mod.ts";
import "../pass/local_services.ts";

const broker = new ServiceBroker({ logger: false });
await broker.emit("user.created", { name: "x" });
