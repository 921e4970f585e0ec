/** Interop over Redis: Denolecular and real Moleculer 0.14 / 0.15 on the shared redis-server. */

import { transporterCluster } from "./_transporter_cluster.ts";

transporterCluster("Redis", Deno.env.get("REDIS_URL") ?? "redis://127.0.0.1:6379");
