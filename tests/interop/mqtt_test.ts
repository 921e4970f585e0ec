/** Interop over MQTT: Denolecular and real Moleculer 0.14 / 0.15 on the shared Mosquitto. */

import { transporterCluster } from "./_transporter_cluster.ts";

transporterCluster("MQTT", Deno.env.get("MQTT_URL") ?? "mqtt://127.0.0.1:1883");
