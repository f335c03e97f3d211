/** Every CLI subcommand; each scheme appends its own import and entry. */
import type { CliCommand } from '../types.js';
import { keygenCommand } from './keygen.js';
import { apiJwtMintCommand } from './apijwt.js';
import { jwksCommand, oauthTokenCommand } from './oauth.js';
import { kmsLocalCommand, kmsTokenCommand } from './kms.js';
import { jwtHeaderCommand } from './jwt.js';
import { dpopProofCommand } from './dpop.js';
import { apiKeyCreateCommand, apiKeyRevokeCommand, apiKeyListCommand } from './apikey.js';
import { apiKeyMigrateCommand } from './apikey-migrate.js';
import { certCaCommand, certClientCommand, certServerCommand } from './cert.js';

export const commands: CliCommand[] = [
  keygenCommand,
  apiJwtMintCommand,
  jwtHeaderCommand,
  kmsTokenCommand,
  kmsLocalCommand,
  apiKeyCreateCommand,
  apiKeyRevokeCommand,
  apiKeyListCommand,
  apiKeyMigrateCommand,
  oauthTokenCommand,
  jwksCommand,
  dpopProofCommand,
  certCaCommand,
  certServerCommand,
  certClientCommand,
];
