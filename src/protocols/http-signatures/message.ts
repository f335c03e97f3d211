/**
 * The message a signature covers, whatever carries it: a Node `IncomingMessage`, a Fetch `Request`
 * or `Response`, or plain values. Fields are kept as their field lines so that RFC 9421 §2.1 can
 * combine them itself (Node folds some repeated headers and drops others).
 */

/** A message to sign or verify (RFC 9421 §1.4): a request or a response. */
export interface HttpMessage {
  /** The request method, for requests. */
  readonly method?: string;
  /** The absolute target URI (`https://host/path?query`), for requests. */
  readonly targetUri?: string;
  /** The status code, for responses. */
  readonly status?: number;
  /** The field lines of a header field (name in lower case) in order, or undefined when absent. */
  field(name: string): readonly string[] | undefined;
  /** The field lines of a trailer field (name in lower case), or undefined when absent. */
  trailer?(name: string): readonly string[] | undefined;
  /** The request a response answers, for components with the `req` parameter. */
  readonly request?: HttpMessage;
}

/** Header fields as plain values: a record (values may be lists), a Fetch `Headers`, or `[name, value]` pairs. */
export type FieldsInput =
  Readonly<Record<string, string | readonly string[] | number | undefined>> | Headers | ReadonlyArray<readonly [string, string]>;

/** Field lines by lower-case name. */
function fieldLines(input: FieldsInput | undefined): ReadonlyMap<string, readonly string[]> {
  const out = new Map<string, string[]>();
  const add = (name: string, value: string): void => {
    const key = name.toLowerCase();
    const lines = out.get(key);
    if (lines === undefined) out.set(key, [value]);
    else lines.push(value);
  };
  if (input === undefined) return out;
  if (typeof (input as Headers).forEach === 'function' && typeof (input as Headers).get === 'function') {
    const headers = input as Headers;
    // Headers combines repeated fields with ", " already (set-cookie aside, which RFC 9421 cannot combine either).
    headers.forEach((value, name) => add(name, value));
    return out;
  }
  if (Array.isArray(input)) {
    for (const [name, value] of input as ReadonlyArray<readonly [string, string]>) add(name, value);
    return out;
  }
  for (const [name, value] of Object.entries(input as Readonly<Record<string, string | readonly string[] | number | undefined>>)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const line of value as readonly string[]) add(name, line);
    else add(name, String(value));
  }
  return out;
}

/** What {@link httpMessage} takes. */
export interface HttpMessageInit {
  /** The request method (requests). */
  readonly method?: string;
  /** The absolute target URI (requests). */
  readonly url?: string;
  /** The status code (responses). */
  readonly status?: number;
  /** Header fields. */
  readonly headers?: FieldsInput;
  /** Trailer fields. */
  readonly trailers?: FieldsInput;
  /** The request a response answers. */
  readonly request?: HttpMessage;
}

/**
 * A message from plain values.
 * @example httpMessage({ method: 'POST', url: 'https://api.example.com/orders', headers: { 'content-type': 'application/json' } })
 */
export function httpMessage(init: HttpMessageInit): HttpMessage {
  const headers = fieldLines(init.headers);
  const trailers = fieldLines(init.trailers);
  return {
    ...(init.method === undefined ? {} : { method: init.method }),
    ...(init.url === undefined ? {} : { targetUri: init.url }),
    ...(init.status === undefined ? {} : { status: init.status }),
    ...(init.request === undefined ? {} : { request: init.request }),
    field: (name) => headers.get(name),
    trailer: (name) => trailers.get(name),
  };
}

/** The parts of a Node request this module reads. */
export interface NodeRequestLike {
  readonly method?: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Raw header list, `[name, value, name, value, …]`: every field line as received. */
  readonly rawHeaders?: readonly string[];
  readonly rawTrailers?: readonly string[];
}

function rawPairs(raw: readonly string[]): Array<readonly [string, string]> {
  const pairs: Array<readonly [string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] as string, raw[i + 1] as string]);
  return pairs;
}

/**
 * A message from a Node `IncomingMessage` (Express and Connect requests too), with the target URI
 * the caller computed from trusted parts (see the scheme's `origins`): never from the `Host` header
 * alone.
 */
export function messageFromNodeRequest(req: NodeRequestLike, targetUri: string): HttpMessage {
  const headers: FieldsInput =
    req.rawHeaders !== undefined && req.rawHeaders.length > 0
      ? rawPairs(req.rawHeaders)
      : (req.headers as Readonly<Record<string, string | readonly string[] | undefined>>);
  return httpMessage({
    ...(req.method === undefined ? {} : { method: req.method }),
    url: targetUri,
    headers,
    ...(req.rawTrailers === undefined ? {} : { trailers: rawPairs(req.rawTrailers) }),
  });
}

/** A message from a Fetch `Request`. */
export function messageFromFetchRequest(request: Request): HttpMessage {
  return httpMessage({ method: request.method, url: request.url, headers: request.headers });
}

/** A message from a Fetch `Response`; `request` is the request it answers (for `req` components). */
export function messageFromFetchResponse(response: Response, request?: HttpMessage): HttpMessage {
  return httpMessage({ status: response.status, headers: response.headers, ...(request === undefined ? {} : { request }) });
}
