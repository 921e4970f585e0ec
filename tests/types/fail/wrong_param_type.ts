// expect: TS2769 "Type 'string' is not assignable to type 'number'"
import { ServiceBroker } from "../../../mod.ts";
import "../pass/local_services.ts";

const broker = new ServiceBroker({ logger: false });
await broker.call("v2.math.add", { a: "1", b: 2 });
