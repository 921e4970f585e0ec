// expect: TS2322 "Type 'number' is not assignable to type 'string'"
import { ServiceBroker } from "../../../mod.ts";
import "../pass/local_services.ts";

const broker = new ServiceBroker({ logger: false });
export const text: string = await broker.call("greeter.count");
