import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { md5, sha256Base64 } from "../../src/runtime/hash.ts";

/** Texts around every padding boundary (55/56/64 bytes and their multiples), and beyond ASCII. */
function texts(): string[] {
  const out = ["", "a", "abc", "message digest", "The quick brown fox jumps over the lazy dog"];
  for (let n = 0; n <= 200; n++) out.push("x".repeat(n));
  for (const n of [1000, 4095, 4096, 65_537]) out.push("k".repeat(n));
  // Beyond ASCII, a NUL, and a lone surrogate (encoded as U+FFFD, as node:crypto does).
  out.push("héllo wörld", "日本語のキー", "emoji 🚀 key", "\u0000nul", "a\uD800b");
  let seed = 7;
  for (let i = 0; i < 300; i++) {
    let s = "";
    const len = (seed = (seed * 1103515245 + 12345) >>> 0) % 300;
    for (let j = 0; j < len; j++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      s += String.fromCharCode(32 + (seed % 0x2fff));
    }
    out.push(s);
  }
  return out;
}

Deno.test("md5 gives node:crypto's digest for every length and for non-ASCII text", () => {
  for (const t of texts()) {
    const expected = new Uint8Array(createHash("md5").update(t).digest());
    assert.deepEqual(md5(t), expected, JSON.stringify(t.slice(0, 40)));
  }
});

Deno.test("md5 of RFC 1321's test suite", () => {
  const hex = (t: string) => Array.from(md5(t), (b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  assert.equal(hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  assert.equal(hex("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
  assert.equal(hex("1234567890".repeat(8)), "57edf4a22be3c955ac49da2e2107b67a");
});

Deno.test("sha256Base64 gives node:crypto's digest for every length and for non-ASCII text", () => {
  for (const t of texts()) {
    const expected = createHash("sha256").update(t).digest("base64");
    assert.equal(sha256Base64(t), expected, JSON.stringify(t.slice(0, 40)));
  }
});

Deno.test("sha256Base64 of FIPS 180-4's examples", () => {
  assert.equal(sha256Base64("abc"), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
  // 248d6a61 d20638b8 e5c02693 0c3e6039 a33ce459 64ff2167 f6ecedd4 19db06c1
  assert.equal(
    sha256Base64("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "JI1qYdIGOLjlwCaTDD5gOaM85Flk/yFn9uzt1BnbBsE=",
  );
  // e3b0c442 98fc1c14 9afbf4c8 996fb924 27ae41e4 649b934c a495991b 7852b855
  assert.equal(sha256Base64(""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
});
