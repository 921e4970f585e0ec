/**
 * `Transmit.Encryption`: Moleculer's encryption of the bytes on the wire, interoperable with
 * its `Middlewares.Transmit.Encryption(password, algorithm, iv)`.
 *
 * As in Moleculer, every packet is encrypted with the same key and IV: with an `iv`, the
 * password is the key itself (32 bytes for the default `aes-256-cbc`), as Moleculer 0.15 and
 * 0.14 do (`createCipheriv`); without one, key and IV are derived from the password as
 * Moleculer 0.14 does (`createCipher`: OpenSSL's `EVP_BytesToKey`, MD5) — Moleculer 0.15 needs
 * an IV for `aes-256-cbc`. The cipher is loaded (by `import()`) when the middleware is created;
 * packets sent or received before it is ready wait for it.
 *
 * @example
 * ```ts
 * import { ServiceBroker } from "../../../mod.ts";
 * import { Encryption } from "./encryption.ts";
 *
 * const broker = new ServiceBroker({
 *   logger: false,
 *   transporter: "memory://encryption-example",
 *   middlewares: [Encryption("a-32-byte-key-for-aes-256-cbc!!!", "aes-256-cbc", "a 16-byte IV....")],
 * });
 * await broker.start();
 * await broker.stop();
 * ```
 *
 * @module
 */

import type { BrokerApi } from "../../core/broker_api.ts";
import type { MiddlewareHooks } from "../../core/middleware.ts";
import { BrokerOptionsError } from "../../errors.ts";
import { toError } from "../../_util/values.ts";
import { loadCodecs, readyHooks, TransmitUnreadableError } from "./_shared.ts";

/** A password, key or IV: text (its UTF-8 bytes) or bytes, as Node's `string | Buffer`. */
export type SecretBytes = string | Uint8Array;

/** Key and IV sizes of the AES ciphers, checked before the cipher library is loaded. */
const AES = /^aes-(128|192|256)-(cbc|ctr|cfb|cfb8|ofb|ecb)$/;

function bytesOf(value: SecretBytes): Uint8Array {
  return typeof value === "string" ? new TextEncoder().encode(value) : value;
}

function check(ok: boolean, message: string, option: string): void {
  if (!ok) throw new BrokerOptionsError(message, { middleware: "Encryption", option });
}

/** The sizes an AES cipher needs, or undefined for another cipher (checked once loaded). */
function aesSizes(algorithm: string): { key: number; iv: number } | undefined {
  const m = AES.exec(algorithm);
  if (!m) return undefined;
  return { key: Number(m[1]) / 8, iv: m[2] === "ecb" ? 0 : 16 };
}

function checkSizes(
  algorithm: string,
  sizes: { key: number; iv: number },
  key: Uint8Array,
  iv: Uint8Array | null,
): void {
  check(
    key.length === sizes.key,
    `Encryption: with an IV the password is the key of '${algorithm}', which takes ${sizes.key} ` +
      `bytes, not ${key.length}: give a ${sizes.key}-byte password (or no IV, to derive the key ` +
      "from a password as Moleculer 0.14 does)",
    "password",
  );
  check(
    (iv?.length ?? 0) === sizes.iv,
    sizes.iv === 0
      ? `Encryption: '${algorithm}' takes no IV`
      : `Encryption: the IV of '${algorithm}' takes ${sizes.iv} bytes, not ${iv?.length ?? 0}`,
    "iv",
  );
}

/**
 * The encryption middleware, as Moleculer's `Middlewares.Transmit.Encryption`. Every node of a
 * cluster must use the same password, algorithm and IV.
 *
 * @param password The key (with an `iv`), or a password to derive key and IV from (without).
 * @param algorithm An OpenSSL cipher name; default `"aes-256-cbc"`.
 * @param iv The IV; leave it out to derive it from the password as Moleculer 0.14 does.
 * @returns The middleware.
 * @throws {BrokerOptionsError} without a password, or when the key or IV does not fit an AES
 *   cipher (another cipher is checked when it is loaded: then every packet fails with why).
 */
export function Encryption(
  password: SecretBytes,
  algorithm = "aes-256-cbc",
  iv?: SecretBytes | null,
): MiddlewareHooks {
  check(
    (typeof password === "string" || password instanceof Uint8Array) && password.length > 0,
    "Encryption needs a password: Encryption(password, 'aes-256-cbc', iv)",
    "password",
  );
  check(
    typeof algorithm === "string" && algorithm.length > 0,
    "Encryption: 'algorithm' must be a cipher name such as 'aes-256-cbc'",
    "algorithm",
  );
  const secret = bytesOf(password);
  const ivBytes = iv === undefined || iv === null ? null : bytesOf(iv);
  const aes = aesSizes(algorithm.toLowerCase());
  if (aes && ivBytes) checkSizes(algorithm, aes, secret, ivBytes);

  const ready = loadCodecs().then((m) => {
    const info = m.cipherInfo(algorithm);
    if (!info) {
      throw new BrokerOptionsError(
        `Encryption: unknown cipher '${algorithm}'. Known: ${m.cipherNames().join(", ")}`,
        { middleware: "Encryption", option: "algorithm" },
      );
    }
    if (ivBytes === null) {
      const derived = m.passwordKey(secret, info.keyLength, info.ivLength);
      return m.packetCipher(algorithm, derived.key, info.ivLength ? derived.iv : null);
    }
    checkSizes(algorithm, { key: info.keyLength, iv: info.ivLength }, secret, ivBytes);
    return m.packetCipher(algorithm, secret, ivBytes);
  });
  const hooks = readyHooks(
    ready,
    (cipher, next) => (topic, data, meta) => next(topic, cipher.encrypt(data), meta),
    (cipher, next) => (cmd, data, s) => {
      let plain: Uint8Array;
      try {
        plain = cipher.decrypt(data);
      } catch (err) {
        throw new TransmitUnreadableError(
          "Encryption",
          `cannot decrypt the packet with '${algorithm}' (${toError(err).message})`,
          { cause: err },
        );
      }
      return next(cmd, plain, s);
    },
  );
  return {
    name: "Encryption",
    created(broker: BrokerApi) {
      broker.logger.info(
        `The transmission is ENCRYPTED by '${algorithm}'` +
          (ivBytes === null ? " (key and IV derived from the password, as Moleculer 0.14)." : "."),
      );
    },
    ...hooks,
  };
}
