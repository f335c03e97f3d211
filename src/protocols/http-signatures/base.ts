/**
 * Component values (RFC 9421 §2.1, §2.2) and the signature base (§2.5). A component that the
 * message does not have is an error, never an empty line: a signature over an absent field must not
 * verify against a message that has one, nor the other way round.
 */
import {
  parseDictionary,
  parseItem,
  parseList,
  serializeDictionary,
  serializeInnerList,
  serializeItem,
  serializeList,
} from 'structured-headers';
import { invalidCredentials, isAuthError, malformedRequest, type AuthError } from '../../errors.js';
import type { HttpMessage } from './message.js';
import type { ComponentIdentifier } from './structured.js';

/** The Structured Field type of a field, for the `sf` and `key` parameters (RFC 9421 §2.1.1). */
export type StructuredFieldType = 'item' | 'list' | 'dictionary';

/** Fields whose Structured Field type this library knows (RFC 9421, RFC 9530, RFC 9651's examples of RFC 9218). */
export const KNOWN_STRUCTURED_FIELDS: Readonly<Record<string, StructuredFieldType>> = Object.freeze({
  'signature-input': 'dictionary',
  signature: 'dictionary',
  'accept-signature': 'dictionary',
  'content-digest': 'dictionary',
  'repr-digest': 'dictionary',
  'want-content-digest': 'dictionary',
  'want-repr-digest': 'dictionary',
  priority: 'dictionary',
});

const missing = (component: ComponentIdentifier): AuthError =>
  invalidCredentials('component_missing', `The message has no value for the covered component ${component.serialized}.`);

// The application/x-www-form-urlencoded percent-encode set leaves these as they are (WHATWG URL §5.2).
const FORM_SAFE = /^[A-Za-z0-9*\-._]$/;

/** WHATWG "percent-encode after encoding" with the form-urlencoded set, spaces as %20 (RFC 9421 §2.2.8). */
function formEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && FORM_SAFE.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function targetUrl(message: HttpMessage, component: ComponentIdentifier): URL {
  if (message.targetUri === undefined) throw missing(component);
  try {
    return new URL(message.targetUri);
  } catch {
    throw malformedRequest('component_invalid', 'The target URI of the message is not an absolute URI.');
  }
}

/**
 * The path as the URI has it (not decoded), `/` when empty (RFC 9421 §2.2.6), and the query with
 * its `?` (undefined when the URI has none).
 */
function rawPathAndQuery(message: HttpMessage, component: ComponentIdentifier): { path: string; query: string | undefined } {
  targetUrl(message, component);
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)(\?[^#]*)?/i.exec(message.targetUri as string);
  const path = m?.[1] ?? '';
  return { path: path === '' ? '/' : path, query: m?.[2] };
}

function derivedValue(message: HttpMessage, component: ComponentIdentifier): string {
  switch (component.name) {
    case '@method':
      if (message.method === undefined) throw missing(component);
      return message.method;
    case '@target-uri':
      if (message.targetUri === undefined) throw missing(component);
      return message.targetUri;
    case '@authority': {
      // WHATWG URL lower-cases the host and drops the scheme's default port (RFC 9421 §2.2.3).
      return targetUrl(message, component).host;
    }
    case '@scheme':
      return targetUrl(message, component).protocol.slice(0, -1);
    case '@request-target': {
      const { path, query } = rawPathAndQuery(message, component);
      return `${path}${query ?? ''}`;
    }
    case '@path':
      return rawPathAndQuery(message, component).path;
    case '@query':
      // RFC 9421 §2.2.7: no query is an empty one, `?`.
      return rawPathAndQuery(message, component).query ?? '?';
    case '@query-param': {
      const url = targetUrl(message, component);
      const values: string[] = [];
      for (const [name, value] of new URLSearchParams(url.search)) {
        if (formEncode(name) === component.params.name) values.push(formEncode(value));
      }
      if (values.length === 0) throw missing(component);
      // RFC 9421 §2.2.8: a repeated parameter cannot be told apart by name alone; sign @query instead.
      if (values.length > 1) throw invalidCredentials('component_invalid', 'A covered query parameter appears more than once.');
      return values[0] as string;
    }
    case '@status':
      if (message.status === undefined) throw missing(component);
      return String(message.status).padStart(3, '0');
    default:
      throw malformedRequest('component_invalid', 'The signature covers an unknown derived component.');
  }
}

/** Re-serializes a field as a Structured Field (`sf`), or one member of a Dictionary field (`key`). */
function structuredValue(combined: string, component: ComponentIdentifier, types: Readonly<Record<string, StructuredFieldType>>): string {
  const type = component.params.key !== undefined ? 'dictionary' : types[component.name];
  if (type === undefined)
    throw invalidCredentials('component_invalid', `The field ${component.name} is not a Structured Field this service knows.`);
  try {
    if (type === 'item') return serializeItem(parseItem(combined));
    if (type === 'list') return serializeList(parseList(combined));
    const dictionary = parseDictionary(combined);
    if (component.params.key === undefined) return serializeDictionary(dictionary);
    const member = dictionary.get(component.params.key);
    if (member === undefined) throw missing(component);
    return Array.isArray(member[0])
      ? serializeInnerList(member as Parameters<typeof serializeInnerList>[0])
      : serializeItem(member as Parameters<typeof serializeItem>[0]);
  } catch (thrown) {
    if (isAuthError(thrown)) throw thrown;
    throw invalidCredentials('component_invalid', `The field ${component.name} is not valid Structured Field syntax.`);
  }
}

function fieldValue(message: HttpMessage, component: ComponentIdentifier, types: Readonly<Record<string, StructuredFieldType>>): string {
  const lines = component.params.tr ? message.trailer?.(component.name) : message.field(component.name);
  if (lines === undefined || lines.length === 0) throw missing(component);
  for (const line of lines) if (/[\r\n]/.test(line)) throw malformedRequest('component_invalid', 'A field value holds a line break.');
  // RFC 9421 §2.1: each line trimmed, lines joined with ", ".
  const trimmed = lines.map((line) => line.replace(/^[ \t]+|[ \t]+$/g, ''));
  if (component.params.bs) return trimmed.map((line) => `:${Buffer.from(line, 'latin1').toString('base64')}:`).join(', ');
  const combined = trimmed.join(', ');
  if (component.params.sf || component.params.key !== undefined) return structuredValue(combined, component, types);
  return combined;
}

/**
 * The value of one covered component in `message` (RFC 9421 §2.1, §2.2).
 * @throws AuthError 401 `component_missing` when the message has no such component, 401/400
 *   `component_invalid` when it cannot be computed.
 */
export function componentValue(
  message: HttpMessage,
  component: ComponentIdentifier,
  types: Readonly<Record<string, StructuredFieldType>> = KNOWN_STRUCTURED_FIELDS,
): string {
  let source = message;
  if (component.params.req) {
    if (message.request === undefined) throw missing(component);
    source = message.request;
  }
  return component.name.startsWith('@') ? derivedValue(source, component) : fieldValue(source, component, types);
}

/**
 * The signature base (RFC 9421 §2.5): one line per covered component, then `@signature-params`.
 * @param signatureParams the serialized inner list (`("@method" …);created=…`).
 */
export function signatureBase(
  message: HttpMessage,
  components: readonly ComponentIdentifier[],
  signatureParams: string,
  types: Readonly<Record<string, StructuredFieldType>> = KNOWN_STRUCTURED_FIELDS,
): string {
  let base = '';
  for (const component of components) base += `${component.serialized}: ${componentValue(message, component, types)}\n`;
  return `${base}"@signature-params": ${signatureParams}`;
}
