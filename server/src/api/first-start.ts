/**
 * What a state dir gets at first start: the admin password (random, file mode 0600; logs name the
 * file, never the password) and a self-signed TLS certificate for this host's names.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { generate } from "selfsigned";

export interface AdminCredentials {
  username: string;
  password: string;
  passwordFile: string;
}

export function ensureAdminPassword(stateDir: string): AdminCredentials {
  const passwordFile = join(stateDir, "admin-password");
  if (!existsSync(passwordFile)) {
    writeFileSync(passwordFile, `${randomBytes(18).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
  }
  const password = readFileSync(passwordFile, "utf8").trim();
  if (password.length === 0) throw new Error(`${passwordFile} is empty`);
  return { username: "admin", password, passwordFile };
}

export interface TlsFiles {
  key: string;
  cert: string;
  certFile: string;
}

export async function ensureTlsCertificate(stateDir: string, extraHosts: string[]): Promise<TlsFiles> {
  const dir = join(stateDir, "tls");
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const names = [...new Set(["localhost", hostname(), ...extraHosts.filter((h) => !/^[\d.:]+$/.test(h))])];
    const ips = [...new Set(["127.0.0.1", "::1", ...extraHosts.filter((h) => /^[\d.:]+$/.test(h) && h !== "0.0.0.0" && h !== "::")])];
    const notAfter = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
    const pems = await generate([{ name: "commonName", value: hostname() }], {
      keyType: "ec",
      curve: "P-256",
      algorithm: "sha256",
      notAfterDate: notAfter,
      extensions: [
        { name: "basicConstraints", cA: true },
        { name: "keyUsage", digitalSignature: true, keyCertSign: true, keyEncipherment: true },
        { name: "extKeyUsage", serverAuth: true },
        { name: "subjectAltName", altNames: [...names.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))] },
      ],
    });
    // Made anew as a pair, each with O_EXCL: the private key is never written through a planted name.
    for (const file of [keyFile, certFile]) rmSync(file, { force: true });
    writeFileSync(keyFile, pems.private, { mode: 0o600, flag: "wx" });
    writeFileSync(certFile, pems.cert, { mode: 0o644, flag: "wx" });
  }
  return { key: readFileSync(keyFile, "utf8"), cert: readFileSync(certFile, "utf8"), certFile };
}
