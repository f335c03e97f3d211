/** Development keys for the example: made on first start under the dev directory, reused after. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, type KeygenType } from '../../src/cli/commands/keygen.js';

/** Returns `{ privatePem, publicPem }` for `name`, creating the pair on first use (private key mode 0600). */
export function devKeyPair(devDir: string, name: string, type: KeygenType): { privatePem: string; publicPem: string } {
  const privPath = join(devDir, `${name}_private.pem`);
  const pubPath = join(devDir, `${name}_public.pem`);
  if (!existsSync(privPath) || !existsSync(pubPath)) {
    const { privateKey, publicKey } = generateKeyPair(type);
    writeFileSync(privPath, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    writeFileSync(pubPath, publicKey.export({ format: 'pem', type: 'spki' }));
  }
  return { privatePem: readFileSync(privPath, 'utf8'), publicPem: readFileSync(pubPath, 'utf8') };
}
