/**
 * The dashboard in a real browser: headless Chromium (Debian's `chromium`) opens the
 * dashboard of a Deno gateway in a mixed cluster — the Deno node and a Node.js Moleculer 0.15
 * node over a private NATS — sees both nodes with their runtimes and versions, calls an action
 * of the Node.js node from the console by typing and clicking, and reads the result and its
 * timing. `DASHBOARD_SCREENSHOT=1` keeps the screenshot as `docs/dashboard.png`.
 */

import assert from "node:assert/strict";
import { ApiGateway } from "../../src/gateway/mod.ts";
import { freePort, startNatsServer } from "../_helpers/nats_server.ts";
import { IGNORE, startDeno } from "../interop/_shared.ts";
import { chromiumPath, launchChromium } from "./_browser.ts";
import { startWebNode } from "./_cluster.ts";
import { ditems, dmath } from "./_fixtures.ts";

const SCREENSHOT = new URL("../../docs/dashboard.png", import.meta.url);

Deno.test({
  name:
    "dashboard in Chromium: every node of a mixed cluster, and an action called from the console",
  ignore: IGNORE,
  async fn() {
    chromiumPath();
    await using nats = await startNatsServer();
    const port = freePort();
    await using deno = await startDeno({
      nodeID: "deno-gw",
      transporter: nats.url,
      services: [ditems, dmath, {
        name: "api",
        mixins: [ApiGateway],
        settings: {
          port,
          ip: "127.0.0.1",
          logRequest: null,
          logResponse: null,
          logRouteRegistration: null,
          routes: [{ path: "/api", autoAliases: true }],
          dashboard: { console: true, interval: 500 },
        },
      }],
    });
    await using _node = await startWebNode({ nodeID: "node-svc", transporter: nats.url });
    await deno.broker.waitForServices(["nusers"], 10_000);
    await using browser = await launchChromium();
    const page = await browser.open(`http://127.0.0.1:${port}/dashboard`);

    const rows = await page.waitFor<Record<string, string[]>>(
      `(() => {
        const out = {};
        for (const tr of document.querySelectorAll("#nodes tr[data-node]")) {
          out[tr.dataset.node] = [...tr.cells].map((c) => c.textContent.trim());
        }
        return out["deno-gw"] && out["node-svc"] && out["node-svc"][1] === "online" ? out : null;
      })()`,
      "both nodes in the table",
    );
    const [denoRow, nodeRow] = [rows["deno-gw"]!, rows["node-svc"]!];
    assert.equal(denoRow[1], "online");
    assert.match(denoRow[2]!, new RegExp(`^Deno ${Deno.version.deno.replace(/\./g, "\\.")}$`));
    assert.match(nodeRow[2]!, /^Node\.js v\d+\.\d+\.\d+$/);
    assert.equal(nodeRow[3], "0.15.2", "the Node.js node's Moleculer version");
    assert.match(denoRow[0]!, /\(this node\)/);
    const services = await page.eval<string[]>(
      `[...document.querySelectorAll("#services [data-service]")].map((e) => e.dataset.service)`,
    );
    for (const s of ["api", "ditems", "dmath", "nusers"]) assert.ok(services.includes(s), s);
    assert.ok(
      await page.eval<boolean>(
        `[...document.querySelectorAll("#services .tag.action")].some((t) => t.textContent === "nusers.get")`,
      ),
      "the Node.js node's actions are listed",
    );
    const metrics = await page.eval<string>(`document.getElementById("metrics").textContent`);
    const snapshot = await (await fetch(`http://127.0.0.1:${port}/dashboard/api/snapshot`)).json();
    if (snapshot.metrics === null) assert.match(metrics, /^Metrics are off/);

    assert.equal(await page.eval<boolean>(`document.getElementById("console").hidden`), false);
    await page.type("#console-action", "nusers.get");
    await page.type("#console-params", '{ "id": 2 }');
    await page.click("#console-call");
    const result = await page.waitFor<{ status: string; text: string; time: string }>(
      `(() => {
        const out = document.getElementById("console-result");
        if (!out.dataset.status) return null;
        return { status: out.dataset.status, text: out.textContent,
          time: document.getElementById("console-time").textContent };
      })()`,
      "the console's result",
    );
    assert.equal(result.status, "200");
    assert.deepEqual(JSON.parse(result.text), { id: 2, name: "Bob" });
    assert.match(result.time, /^call \d+\.\d\d ms · round trip \d+\.\d ms$/);

    // A call that fails shows the error answer.
    await page.type("#console-params", '{ "id": 9 }');
    await page.click("#console-call");
    const failed = await page.waitFor<string>(
      `document.getElementById("console-result").dataset.status === "404" &&
        document.getElementById("console-result").textContent`,
      "the console's error",
    );
    assert.equal(JSON.parse(failed).type, "USER_NOT_FOUND");
    await page.type("#console-params", '{ "id": 1 }');
    await page.click("#console-call");
    await page.waitFor(
      `document.getElementById("console-result").dataset.status === "200"`,
      "the last call",
    );

    await page.eval("window.scrollTo(0, 0)");
    const { cssContentSize: size } = await page.send<{
      cssContentSize: { width: number; height: number };
    }>("Page.getLayoutMetrics");
    const shot = await page.send<{ data: string }>("Page.captureScreenshot", {
      format: "png",
      captureBeyondViewport: true,
      clip: { x: 0, y: 0, width: size.width, height: size.height, scale: 1 },
    });
    const png = Uint8Array.from(atob(shot.data), (c) => c.charCodeAt(0));
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "a PNG");
    if (Deno.env.get("DASHBOARD_SCREENSHOT") === "1") await Deno.writeFile(SCREENSHOT, png);
  },
});
