/**
 * A headless Chromium for the dashboard test, driven over the DevTools protocol by a small
 * client on the built-in WebSocket: start the browser (Debian's `chromium`, no download),
 * open a page, evaluate script in it, type, click, and take a screenshot.
 *
 * @module
 */

/** Where Chromium is; `CHROMIUM` overrides. */
export function chromiumPath(): string {
  const candidates = [Deno.env.get("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  for (const path of candidates) {
    if (!path) continue;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* next */ }
  }
  throw new Error("chromium is not installed: run `apt-get install -y chromium`");
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

/** One page, over its DevTools WebSocket. */
export class Page {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, Pending>();
  #next = 1;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
      };
      if (msg.id === undefined) return;
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`DevTools: ${msg.error.message}`));
      else p.resolve(msg.result);
    };
    ws.onclose = () => {
      for (const p of this.#pending.values()) p.reject(new Error("DevTools connection closed"));
      this.#pending.clear();
    };
  }

  /**
   * Connect to a page target.
   *
   * @param url The target's `webSocketDebuggerUrl`.
   * @returns The page.
   */
  static async connect(url: string): Promise<Page> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`cannot reach the DevTools page at ${url}`));
    });
    return new Page(ws);
  }

  /**
   * Send one DevTools command.
   *
   * @param method E.g. `Page.navigate`.
   * @param params Its params.
   * @returns Its result.
   */
  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}) {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /**
   * Evaluate an expression in the page (awaiting a promise) and return its value.
   *
   * @param expression Script.
   * @returns Its value, as JSON.
   */
  async eval<T>(expression: string): Promise<T> {
    const out = await this.send<{
      result: { value?: unknown };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    }>("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
    if (out.exceptionDetails) {
      throw new Error(
        `in the page: ${out.exceptionDetails.exception?.description ?? out.exceptionDetails.text}`,
      );
    }
    return out.result.value as T;
  }

  /**
   * Poll an expression until it is truthy.
   *
   * @param expression Script.
   * @param what What is awaited, for the error.
   * @param timeout Ms.
   * @returns Its last value.
   */
  async waitFor<T>(expression: string, what: string, timeout = 10_000): Promise<T> {
    const deadline = Date.now() + timeout;
    let last: T | undefined;
    while (Date.now() < deadline) {
      last = await this.eval<T>(expression).catch(() => undefined);
      if (last) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(last)}`);
  }

  /**
   * Click the middle of an element, as a mouse does.
   *
   * @param selector A CSS selector.
   */
  async click(selector: string): Promise<void> {
    const box = await this.eval<{ x: number; y: number } | null>(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) return null;
      el.scrollIntoView({ block: "center" });
      const r = el.getBoundingClientRect();
      return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
    })()`);
    if (!box) throw new Error(`no element ${selector} to click`);
    for (const type of ["mousePressed", "mouseReleased"]) {
      await this.send("Input.dispatchMouseEvent", {
        type,
        x: box.x,
        y: box.y,
        button: "left",
        clickCount: 1,
      });
    }
  }

  /**
   * Replace the text of an input or textarea by typing, as a keyboard does.
   *
   * @param selector A CSS selector.
   * @param text The text.
   */
  async type(selector: string, text: string): Promise<void> {
    await this.click(selector);
    await this.eval(`document.querySelector(${JSON.stringify(selector)}).select()`);
    await this.send("Input.insertText", { text });
  }

  /** Close the connection. */
  close(): void {
    this.#ws.close();
  }
}

/** A running headless Chromium. */
export interface Browser extends AsyncDisposable {
  /**
   * Open a page at a URL, at a fixed viewport.
   *
   * @param url The page's URL.
   * @returns The page, loaded.
   */
  open(url: string): Promise<Page>;
}

/**
 * Start headless Chromium with a fresh profile.
 *
 * @returns The browser; dispose it to stop it and remove its profile.
 */
export async function launchChromium(): Promise<Browser> {
  const binary = chromiumPath();
  const profile = await Deno.makeTempDir({ prefix: "dashboard-chromium-" });
  const child = new Deno.Command(binary, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
      `--user-data-dir=${profile}`,
      "--remote-debugging-address=127.0.0.1",
      "--remote-debugging-port=0",
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let tail = "";
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const endpoint = Promise.withResolvers<string>();
  const drained = (async () => {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      tail = (tail + value).slice(-4096);
      const m = /DevTools listening on (ws:\/\/[^\s]+)/.exec(tail);
      if (m) endpoint.resolve(m[1]!);
    }
    endpoint.reject(new Error(`chromium exited before it listened:\n${tail}`));
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pages: Page[] = [];
  const stop = async () => {
    clearTimeout(timer);
    for (const p of pages) p.close();
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
    await drained.catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };
  let ws: string;
  try {
    ws = await Promise.race([
      endpoint.promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`chromium did not start:\n${tail}`)), 20_000);
      }),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  clearTimeout(timer);
  const http = ws.replace(/^ws:/, "http:").replace(/\/devtools\/browser\/.*$/, "");
  return {
    async open(url: string) {
      const res = await fetch(`${http}/json/new?about:blank`, { method: "PUT" });
      const target = await res.json() as { webSocketDebuggerUrl: string };
      const page = await Page.connect(target.webSocketDebuggerUrl);
      pages.push(page);
      await page.send("Emulation.setDeviceMetricsOverride", {
        width: 1200,
        height: 820,
        deviceScaleFactor: 1,
        mobile: false,
      });
      await page.send("Page.enable");
      await page.send("Page.navigate", { url });
      await page.waitFor("document.readyState === 'complete'", "the page to load");
      return page;
    },
    [Symbol.asyncDispose]: stop,
  };
}
