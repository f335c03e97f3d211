/**
 * Web Bot Auth (draft-meunier-webbotauth-httpsig-protocol) for `httpSignatureScheme()`: the key of
 * a signature is looked up in the key directory of the operator its `Signature-Agent` names, and
 * the principal says which operator signed (`wba:<origin>#<thumbprint>`). Only a `Signature-Agent`
 * member the signature covers is followed: a member it does not cover could be swapped by anyone
 * on the path, and would attribute the request to another operator.
 */
import { parseDictionary, parseItem, type Item } from 'structured-headers';
import { invalidCredentials, malformedRequest } from '../../errors.js';
import { factoryOf, forFactory, optionsObject } from '../../lib/options.js';
import { checkDirectorySignatures } from '../../protocols/http-signatures/directory-signature.js';
import { KeyDirectoryResolver, type KeyDirectoryOptions } from '../../protocols/http-signatures/directory.js';
import type { HttpMessage } from '../../protocols/http-signatures/message.js';
import { WEB_BOT_AUTH_TAG } from '../../protocols/http-signatures/signed-fetch.js';
import type { ComponentIdentifier, SignatureInputEntry } from '../../protocols/http-signatures/structured.js';
import type { HttpSignatureKeyResolver } from './keys.js';

/** Options of {@link webBotAuth}: those of the key directories it fetches. */
export interface WebBotAuthOptions extends KeyDirectoryOptions {
  /** An existing resolver (and its cache) to share between schemes, instead of one built from these options. */
  readonly directories?: KeyDirectoryResolver;
}

/** What {@link webBotAuth} returns: options to spread into `httpSignatureScheme()`. */
export interface WebBotAuthSchemeOptions {
  /** Looks keys up in the directory the covered `Signature-Agent` member names. */
  readonly keyResolver: HttpSignatureKeyResolver;
  /** `web-bot-auth`: only Web Bot Auth signatures are considered. */
  readonly tag: string;
  /** `@authority`, as the draft has agents sign (the covered `Signature-Agent` member is checked by the resolver itself). */
  readonly requiredComponents: readonly string[];
  /** `Signature-Agent` is a Dictionary, so its members can be covered with `key`. */
  readonly fieldTypes: Readonly<Record<string, 'dictionary'>>;
}

const AGENT = 'signature-agent';

/** The string value of a `Signature-Agent` member, if it has the `directory` type (the default). */
function directoryMember(item: Item | undefined): string | undefined {
  if (item === undefined || typeof item[0] !== 'string') return undefined;
  const type = item[1].get('type');
  // A member of another type (jwks_uri, cimd) is for a mechanism this resolver does not follow.
  if (type !== undefined && String(type) !== 'directory') return undefined;
  return item[0];
}

/**
 * The directory origin the signature's covered `Signature-Agent` names: the member keyed by the
 * covered component's `key` (preferring the signature's own label), or, when the whole field is
 * covered, its member for the label, its only member, or the legacy bare string.
 * @throws AuthError 401 when no `Signature-Agent` is covered, 400 when it cannot be parsed.
 */
export function signatureAgentOf(message: HttpMessage, entry: SignatureInputEntry): string {
  const covered = entry.components.filter(
    (c: ComponentIdentifier) => c.name === AGENT && c.params.req === undefined && c.params.tr === undefined,
  );
  if (covered.length === 0) throw invalidCredentials('component_not_covered', 'The signature must cover the Signature-Agent field.');
  const chosen = covered.find((c) => c.params.key === entry.label) ?? (covered.length === 1 ? covered[0] : undefined);
  if (chosen === undefined)
    throw invalidCredentials('component_not_covered', 'The signature covers several Signature-Agent members and none for its label.');
  const value = (message.field(AGENT) ?? []).join(', ');
  if (value === '') throw invalidCredentials('component_missing', 'The request has no Signature-Agent field.');
  let member: string | undefined;
  try {
    if (chosen.params.key !== undefined) member = directoryMember(parseDictionary(value).get(chosen.params.key) as Item | undefined);
    else if (value.trimStart().startsWith('"')) member = directoryMember(parseItem(value));
    else {
      const members = parseDictionary(value);
      const item = members.get(entry.label) ?? (members.size === 1 ? [...members.values()][0] : undefined);
      member = directoryMember(item as Item | undefined);
    }
  } catch {
    throw malformedRequest('signature_input_invalid', 'The Signature-Agent field is not a Structured Field Dictionary or String.');
  }
  if (member === undefined) throw invalidCredentials('key_unknown', 'The covered Signature-Agent member names no key directory.');
  return member;
}

/**
 * Web Bot Auth for `httpSignatureScheme()`: keys from the directory the covered `Signature-Agent`
 * names (SSRF-guarded, cached, its own signature checked), principal subject
 * `wba:<origin>#<thumbprint>`, `details.directory` the origin.
 * @example app.use(authenticate([httpSignatureScheme({ origins: ['https://site.example'], ...webBotAuth({ origins: ['https://bot.example'] }) })]));
 * @throws TypeError for options out of range (see {@link KeyDirectoryResolver}).
 */
export function webBotAuth(options: WebBotAuthOptions = {}): WebBotAuthSchemeOptions {
  const given = optionsObject(options, 'webBotAuth()', true);
  const { directories: shared, ...directoryOptions } = given;
  const directories =
    shared ?? new KeyDirectoryResolver(forFactory(directoryOptions, factoryOf(given, 'webBotAuth()')), checkDirectorySignatures);
  return {
    tag: WEB_BOT_AUTH_TAG,
    requiredComponents: ['@authority'],
    fieldTypes: { [AGENT]: 'dictionary' },
    keyResolver: async (keyId, { message, entry }) => {
      const found = await directories.getKey(signatureAgentOf(message, entry), keyId);
      if (found === undefined) return undefined;
      return {
        key: found.key.key,
        ...(found.key.alg === undefined ? {} : { algorithms: [found.key.alg] }),
        subject: `wba:${found.directory.origin}#${found.key.thumbprint}`,
        kind: 'service',
        details: { directory: found.directory.origin },
      };
    },
  };
}
