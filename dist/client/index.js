// ephemail/client, built from src/client by scripts/client-build.ts: do not edit.
// node_modules/openapi-fetch/dist/index.mjs
var PATH_PARAM_RE = /\{[^{}]+\}/g;
var supportsRequestInitExt = () => {
  return typeof process === "object" && Number.parseInt(process?.versions?.node?.substring(0, 2)) >= 18 && process.versions.undici;
};
function randomID() {
  return Math.random().toString(36).slice(2, 11);
}
function createClient(clientOptions) {
  let {
    baseUrl = "",
    Request: CustomRequest = globalThis.Request,
    fetch: baseFetch = globalThis.fetch,
    querySerializer: globalQuerySerializer,
    bodySerializer: globalBodySerializer,
    pathSerializer: globalPathSerializer,
    headers: baseHeaders,
    requestInitExt = undefined,
    ...baseOptions
  } = { ...clientOptions };
  requestInitExt = supportsRequestInitExt() ? requestInitExt : undefined;
  baseUrl = removeTrailingSlash(baseUrl);
  const globalMiddlewares = [];
  async function coreFetch(schemaPath, fetchOptions) {
    const {
      baseUrl: localBaseUrl,
      fetch = baseFetch,
      Request = CustomRequest,
      headers,
      params = {},
      parseAs = "json",
      querySerializer: requestQuerySerializer,
      bodySerializer = globalBodySerializer ?? defaultBodySerializer,
      pathSerializer: requestPathSerializer,
      body,
      middleware: requestMiddlewares = [],
      ...init
    } = fetchOptions || {};
    let finalBaseUrl = baseUrl;
    if (localBaseUrl) {
      finalBaseUrl = removeTrailingSlash(localBaseUrl) ?? baseUrl;
    }
    let querySerializer = typeof globalQuerySerializer === "function" ? globalQuerySerializer : createQuerySerializer(globalQuerySerializer);
    if (requestQuerySerializer) {
      querySerializer = typeof requestQuerySerializer === "function" ? requestQuerySerializer : createQuerySerializer({
        ...typeof globalQuerySerializer === "object" ? globalQuerySerializer : {},
        ...requestQuerySerializer
      });
    }
    const pathSerializer = requestPathSerializer || globalPathSerializer || defaultPathSerializer;
    const serializedBody = body === undefined ? undefined : bodySerializer(body, mergeHeaders(baseHeaders, headers, params.header));
    const finalHeaders = mergeHeaders(serializedBody === undefined || serializedBody instanceof FormData ? {} : {
      "Content-Type": "application/json"
    }, baseHeaders, headers, params.header);
    const finalMiddlewares = [...globalMiddlewares, ...requestMiddlewares];
    const requestInit = {
      redirect: "follow",
      ...baseOptions,
      ...init,
      body: serializedBody,
      headers: finalHeaders
    };
    let id;
    let options;
    let request = new Request(createFinalURL(schemaPath, { baseUrl: finalBaseUrl, params, querySerializer, pathSerializer }), requestInit);
    let response;
    for (const key in init) {
      if (!(key in request)) {
        request[key] = init[key];
      }
    }
    if (finalMiddlewares.length) {
      id = randomID();
      options = Object.freeze({
        baseUrl: finalBaseUrl,
        fetch,
        parseAs,
        querySerializer,
        bodySerializer,
        pathSerializer
      });
      for (const m of finalMiddlewares) {
        if (m && typeof m === "object" && typeof m.onRequest === "function") {
          const result = await m.onRequest({
            request,
            schemaPath,
            params,
            options,
            id
          });
          if (result) {
            if (result instanceof Request) {
              request = result;
            } else if (result instanceof Response) {
              response = result;
              break;
            } else {
              throw new Error("onRequest: must return new Request() or Response() when modifying the request");
            }
          }
        }
      }
    }
    if (!response) {
      try {
        response = await fetch(request, requestInitExt);
      } catch (error2) {
        let errorAfterMiddleware = error2;
        if (finalMiddlewares.length) {
          for (let i = finalMiddlewares.length - 1;i >= 0; i--) {
            const m = finalMiddlewares[i];
            if (m && typeof m === "object" && typeof m.onError === "function") {
              const result = await m.onError({
                request,
                error: errorAfterMiddleware,
                schemaPath,
                params,
                options,
                id
              });
              if (result) {
                if (result instanceof Response) {
                  errorAfterMiddleware = undefined;
                  response = result;
                  break;
                }
                if (result instanceof Error) {
                  errorAfterMiddleware = result;
                  continue;
                }
                throw new Error("onError: must return new Response() or instance of Error");
              }
            }
          }
        }
        if (errorAfterMiddleware) {
          throw errorAfterMiddleware;
        }
      }
      if (finalMiddlewares.length) {
        for (let i = finalMiddlewares.length - 1;i >= 0; i--) {
          const m = finalMiddlewares[i];
          if (m && typeof m === "object" && typeof m.onResponse === "function") {
            const result = await m.onResponse({
              request,
              response,
              schemaPath,
              params,
              options,
              id
            });
            if (result) {
              if (!(result instanceof Response)) {
                throw new Error("onResponse: must return new Response() when modifying the response");
              }
              response = result;
            }
          }
        }
      }
    }
    const contentLength = response.headers.get("Content-Length");
    if (response.status === 204 || request.method === "HEAD" || contentLength === "0" && !response.headers.get("Transfer-Encoding")?.includes("chunked")) {
      return response.ok ? { data: undefined, response } : { error: undefined, response };
    }
    if (response.ok) {
      const getResponseData = async () => {
        if (parseAs === "stream") {
          return response.body;
        }
        if (parseAs === "json" && !contentLength) {
          const raw = await response.text();
          return raw ? JSON.parse(raw) : undefined;
        }
        return await response[parseAs]();
      };
      return { data: await getResponseData(), response };
    }
    let error = await response.text();
    try {
      error = JSON.parse(error);
    } catch {}
    return { error, response };
  }
  return {
    request(method, url, init) {
      return coreFetch(url, { ...init, method: method.toUpperCase() });
    },
    GET(url, init) {
      return coreFetch(url, { ...init, method: "GET" });
    },
    PUT(url, init) {
      return coreFetch(url, { ...init, method: "PUT" });
    },
    POST(url, init) {
      return coreFetch(url, { ...init, method: "POST" });
    },
    DELETE(url, init) {
      return coreFetch(url, { ...init, method: "DELETE" });
    },
    OPTIONS(url, init) {
      return coreFetch(url, { ...init, method: "OPTIONS" });
    },
    HEAD(url, init) {
      return coreFetch(url, { ...init, method: "HEAD" });
    },
    PATCH(url, init) {
      return coreFetch(url, { ...init, method: "PATCH" });
    },
    TRACE(url, init) {
      return coreFetch(url, { ...init, method: "TRACE" });
    },
    use(...middleware) {
      for (const m of middleware) {
        if (!m) {
          continue;
        }
        if (typeof m !== "object" || !(("onRequest" in m) || ("onResponse" in m) || ("onError" in m))) {
          throw new Error("Middleware must be an object with one of `onRequest()`, `onResponse() or `onError()`");
        }
        globalMiddlewares.push(m);
      }
    },
    eject(...middleware) {
      for (const m of middleware) {
        const i = globalMiddlewares.indexOf(m);
        if (i !== -1) {
          globalMiddlewares.splice(i, 1);
        }
      }
    }
  };
}
function serializePrimitiveParam(name, value, options) {
  if (value === undefined || value === null) {
    return "";
  }
  if (typeof value === "object") {
    throw new Error("Deeply-nested arrays/objects aren’t supported. Provide your own `querySerializer()` to handle these.");
  }
  return `${name}=${options?.allowReserved === true ? value : encodeURIComponent(value)}`;
}
function serializeObjectParam(name, value, options) {
  if (!value || typeof value !== "object") {
    return "";
  }
  const values = [];
  const joiner = {
    simple: ",",
    label: ".",
    matrix: ";"
  }[options.style] || "&";
  if (options.style !== "deepObject" && options.explode === false) {
    for (const k in value) {
      values.push(k, options.allowReserved === true ? value[k] : encodeURIComponent(value[k]));
    }
    const final2 = values.join(",");
    switch (options.style) {
      case "form": {
        return `${name}=${final2}`;
      }
      case "label": {
        return `.${final2}`;
      }
      case "matrix": {
        return `;${name}=${final2}`;
      }
      default: {
        return final2;
      }
    }
  }
  for (const k in value) {
    const finalName = options.style === "deepObject" ? `${name}[${k}]` : k;
    values.push(serializePrimitiveParam(finalName, value[k], options));
  }
  const final = values.join(joiner);
  return options.style === "label" || options.style === "matrix" ? `${joiner}${final}` : final;
}
function serializeArrayParam(name, value, options) {
  if (!Array.isArray(value)) {
    return "";
  }
  if (options.explode === false) {
    const joiner2 = { form: ",", spaceDelimited: "%20", pipeDelimited: "|" }[options.style] || ",";
    const final = (options.allowReserved === true ? value : value.map((v) => encodeURIComponent(v))).join(joiner2);
    switch (options.style) {
      case "simple": {
        return final;
      }
      case "label": {
        return `.${final}`;
      }
      case "matrix": {
        return `;${name}=${final}`;
      }
      default: {
        return `${name}=${final}`;
      }
    }
  }
  const joiner = { simple: ",", label: ".", matrix: ";" }[options.style] || "&";
  const values = [];
  for (const v of value) {
    if (options.style === "simple" || options.style === "label") {
      values.push(options.allowReserved === true ? v : encodeURIComponent(v));
    } else {
      values.push(serializePrimitiveParam(name, v, options));
    }
  }
  return options.style === "label" || options.style === "matrix" ? `${joiner}${values.join(joiner)}` : values.join(joiner);
}
function createQuerySerializer(options) {
  return function querySerializer(queryParams) {
    const search = [];
    if (queryParams && typeof queryParams === "object") {
      for (const name in queryParams) {
        const value = queryParams[name];
        if (value === undefined || value === null) {
          continue;
        }
        if (Array.isArray(value)) {
          if (value.length === 0) {
            continue;
          }
          search.push(serializeArrayParam(name, value, {
            style: "form",
            explode: true,
            ...options?.array,
            allowReserved: options?.allowReserved || false
          }));
          continue;
        }
        if (typeof value === "object") {
          search.push(serializeObjectParam(name, value, {
            style: "deepObject",
            explode: true,
            ...options?.object,
            allowReserved: options?.allowReserved || false
          }));
          continue;
        }
        search.push(serializePrimitiveParam(name, value, options));
      }
    }
    return search.join("&");
  };
}
function defaultPathSerializer(pathname, pathParams) {
  let nextURL = pathname;
  for (const match of pathname.match(PATH_PARAM_RE) ?? []) {
    let name = match.substring(1, match.length - 1);
    let explode = false;
    let style = "simple";
    if (name.endsWith("*")) {
      explode = true;
      name = name.substring(0, name.length - 1);
    }
    if (name.startsWith(".")) {
      style = "label";
      name = name.substring(1);
    } else if (name.startsWith(";")) {
      style = "matrix";
      name = name.substring(1);
    }
    if (!pathParams || pathParams[name] === undefined || pathParams[name] === null) {
      continue;
    }
    const value = pathParams[name];
    if (Array.isArray(value)) {
      nextURL = nextURL.replace(match, serializeArrayParam(name, value, { style, explode }));
      continue;
    }
    if (typeof value === "object") {
      nextURL = nextURL.replace(match, serializeObjectParam(name, value, { style, explode }));
      continue;
    }
    if (style === "matrix") {
      nextURL = nextURL.replace(match, `;${serializePrimitiveParam(name, value)}`);
      continue;
    }
    nextURL = nextURL.replace(match, style === "label" ? `.${encodeURIComponent(value)}` : encodeURIComponent(value));
  }
  return nextURL;
}
function defaultBodySerializer(body, headers) {
  if (body instanceof FormData) {
    return body;
  }
  if (headers) {
    const contentType = headers.get instanceof Function ? headers.get("Content-Type") ?? headers.get("content-type") : headers["Content-Type"] ?? headers["content-type"];
    if (contentType === "application/x-www-form-urlencoded") {
      return new URLSearchParams(body).toString();
    }
  }
  return JSON.stringify(body);
}
function createFinalURL(pathname, options) {
  let finalURL = `${options.baseUrl}${pathname}`;
  if (options.params?.path) {
    finalURL = options.pathSerializer(finalURL, options.params.path);
  }
  let search = options.querySerializer(options.params.query ?? {});
  if (search.startsWith("?")) {
    search = search.substring(1);
  }
  if (search) {
    finalURL += `?${search}`;
  }
  return finalURL;
}
function mergeHeaders(...allHeaders) {
  const finalHeaders = new Headers;
  for (const h of allHeaders) {
    if (!h || typeof h !== "object") {
      continue;
    }
    const iterator = h instanceof Headers ? h.entries() : Object.entries(h);
    for (const [k, v] of iterator) {
      if (v === null) {
        finalHeaders.delete(k);
      } else if (Array.isArray(v)) {
        for (const v2 of v) {
          finalHeaders.append(k, v2);
        }
      } else if (v !== undefined) {
        finalHeaders.set(k, v);
      }
    }
  }
  return finalHeaders;
}
function removeTrailingSlash(url) {
  if (url.endsWith("/")) {
    return url.substring(0, url.length - 1);
  }
  return url;
}

// src/client/errors.ts
class EphemailProblem extends Error {
  name = "EphemailProblem";
  status;
  problem;
  constructor(problem, options) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`, options);
    this.status = problem.status;
    this.problem = problem;
  }
  get slug() {
    return this.problem.type.slice(this.problem.type.lastIndexOf("/") + 1);
  }
}

class EphemailTimeout extends Error {
  mailbox;
  waitedFor;
  timeoutMs;
  name = "EphemailTimeout";
  constructor(mailbox, waitedFor, timeoutMs) {
    super(`no ${waitedFor} arrived at ${mailbox} within ${formatSeconds(timeoutMs)}`);
    this.mailbox = mailbox;
    this.waitedFor = waitedFor;
    this.timeoutMs = timeoutMs;
  }
}
function formatSeconds(ms) {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
var isRecord = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
function problemOf(response, body) {
  if (isRecord(body) && typeof body.type === "string" && typeof body.title === "string" && typeof body.status === "number") {
    const detail = typeof body.detail === "string" ? body.detail : body.title;
    return new EphemailProblem({ ...body, detail });
  }
  const text = typeof body === "string" ? body.trim().slice(0, 500) : "";
  return new EphemailProblem({
    type: "about:blank",
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
    detail: text || `${response.status} from ${response.url || "the server"} without problem details`
  });
}

// src/lib/events.ts
var STREAM_EVENT_NAMES = ["message.received", "message.processed", "mailbox.expired"];
var isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
function parseStreamEvent(name, id, data) {
  if (!STREAM_EVENT_NAMES.includes(name) || !/^\d{1,10}$/.test(id))
    return null;
  let body;
  try {
    body = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(body) || typeof body.address !== "string")
    return null;
  if (name !== "mailbox.expired" && (typeof body.id !== "string" || typeof body.receivedAt !== "string"))
    return null;
  return { seq: Number(id), event: name, data: body };
}

// src/client/sse.ts
async function* readSseFrames(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder;
  let buffer = "";
  let lastId = null;
  let event = "";
  let data = [];
  try {
    for (;; ) {
      const { value, done } = await reader.read();
      if (done)
        return;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf(`
`);
      while (end !== -1) {
        const line = buffer.slice(0, end).replace(/\r$/, "");
        buffer = buffer.slice(end + 1);
        end = buffer.indexOf(`
`);
        if (line === "") {
          if (data.length > 0)
            yield { id: lastId, event: event || "message", data: data.join(`
`) };
          event = "";
          data = [];
          continue;
        }
        if (line.startsWith(":"))
          continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data")
          data.push(value);
        else if (field === "event")
          event = value;
        else if (field === "id" && !value.includes("\x00"))
          lastId = value;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

// src/client/wait.ts
var DEFAULT_WAIT_MS = 30000;
var RECONNECT_DELAY_MS = 1000;
var EXISTING_MESSAGES_LOOKED_AT = 100;
function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted)
      return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
function fromMatches(wanted, from) {
  if (!from)
    return false;
  const address = from.address.toLowerCase();
  const target = wanted.toLowerCase();
  if (target.includes("@") && !target.startsWith("@"))
    return address === target;
  return address.endsWith(`@${target.replace(/^@/, "")}`);
}
function passesHeaders(filter, item) {
  if (filter.subject !== undefined) {
    const subject = item.subject ?? "";
    if (typeof filter.subject === "string" ? !subject.includes(filter.subject) : !filter.subject.test(subject))
      return false;
  }
  return filter.from === undefined || fromMatches(filter.from, item.from);
}
function describeWait(what, filter) {
  const parts = [what];
  if (filter.from !== undefined)
    parts.push(`from ${filter.from}`);
  if (filter.subject !== undefined)
    parts.push(`with subject ${typeof filter.subject === "string" ? JSON.stringify(filter.subject) : filter.subject}`);
  if (filter.match)
    parts.push("accepted by match()");
  return parts.join(" ");
}
async function waitFor(deps, address, wanted, filter, options) {
  const timeoutMs = options.timeout ?? DEFAULT_WAIT_MS;
  const stop = new AbortController;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stop.abort(new EphemailTimeout(address, describeWait(wanted.what, filter), timeoutMs));
  }, timeoutMs);
  const cancel = () => stop.abort(options.signal?.reason);
  if (options.signal?.aborted)
    cancel();
  options.signal?.addEventListener("abort", cancel, { once: true });
  const call = { signal: stop.signal, ...options.token ? { token: options.token } : {} };
  const sinceMs = options.since === undefined ? null : new Date(options.since).getTime();
  const inWindow = (item) => (sinceMs === null || new Date(item.receivedAt).getTime() > sinceMs) && (options.after === undefined || item.id > options.after.toLowerCase());
  const judge = async (candidate) => {
    let fetched;
    const full = () => {
      fetched ??= deps.getMessage(candidate.id, call);
      return fetched;
    };
    if (filter.match && !filter.match(await full()))
      return null;
    return wanted.take(candidate, full);
  };
  try {
    const processing = new Set;
    let fallback = null;
    let lastEventId = null;
    let listed = false;
    for (;; ) {
      const stream = await deps.openEvents(address, lastEventId, call);
      if (!listed) {
        listed = true;
        const page = await deps.listMessages(address, { limit: EXISTING_MESSAGES_LOOKED_AT, ...options.after ? { after: options.after } : {} }, call);
        for (const item of page.items) {
          if (!inWindow(item) || !passesHeaders(filter, item))
            continue;
          if (item.processing.state === "pending") {
            processing.add(item.id);
            continue;
          }
          const value = await judge(item);
          if (value === null)
            continue;
          if (processing.size === 0) {
            await stream.cancel().catch(() => {});
            return value;
          }
          fallback = { value };
          break;
        }
      }
      for await (const frame of readSseFrames(stream)) {
        if (frame.id !== null)
          lastEventId = frame.id;
        const event = parseStreamEvent(frame.event, frame.id ?? "", frame.data);
        if (!event)
          continue;
        if (event.event === "mailbox.expired") {
          await deps.getMailbox(address, call);
          break;
        }
        const item = event.data;
        if (!inWindow(item) || !passesHeaders(filter, item))
          continue;
        if (event.event === "message.received") {
          processing.add(item.id);
          continue;
        }
        processing.delete(item.id);
        const value = await judge({ ...event.data, id: item.id });
        if (value !== null)
          return value;
        if (processing.size === 0 && fallback)
          return fallback.value;
      }
      await pause(RECONNECT_DELAY_MS, stop.signal);
    }
  } catch (error) {
    if (timedOut) {
      if (options.nullOnTimeout)
        return null;
      throw stop.signal.reason;
    }
    throw error;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", cancel);
    if (!stop.signal.aborted)
      stop.abort();
  }
}
// src/client/index.ts
var MAX_REMEMBERED_MESSAGES = 1e4;
async function succeed(pending) {
  const result = await pending;
  if (!result.response.ok)
    throw problemOf(result.response, result.error);
  return result.data;
}
var splitFilter = ({ subject, from, match }) => ({
  ...subject !== undefined ? { subject } : {},
  ...from !== undefined ? { from } : {},
  ...match ? { match } : {}
});
function createClient2(options) {
  const api = createClient({
    baseUrl: options.baseUrl,
    ...options.fetch ? { fetch: options.fetch } : {},
    ...options.headers ? { headers: options.headers } : {}
  });
  const mailboxTokens = new Map;
  const messageAddresses = new Map;
  const rememberMessages = (address, ids) => {
    for (const id of ids) {
      messageAddresses.delete(id);
      messageAddresses.set(id, address.toLowerCase());
    }
    for (const oldest of messageAddresses.keys()) {
      if (messageAddresses.size <= MAX_REMEMBERED_MESSAGES)
        break;
      messageAddresses.delete(oldest);
    }
  };
  const auth = (call, address) => {
    const credential = call?.token ?? (address === undefined ? undefined : mailboxTokens.get(address.toLowerCase())) ?? options.token ?? options.key;
    return {
      headers: credential ? { authorization: `Bearer ${credential}` } : {},
      ...call?.signal ? { signal: call.signal } : {}
    };
  };
  const authForMessage = (call, id) => auth(call, messageAddresses.get(id));
  const address = (value) => ({ params: { path: { address: value } } });
  const message = (id) => ({ params: { path: { id } } });
  const listMessages = async (mailbox, query = {}) => {
    const { token, signal, ...params } = query;
    const page = await succeed(api.GET("/v1/mailboxes/{address}/messages", {
      params: { path: { address: mailbox }, query: params },
      ...auth({ ...token ? { token } : {}, ...signal ? { signal } : {} }, mailbox)
    }));
    rememberMessages(mailbox, page.items.map((item) => item.id));
    return page;
  };
  const getMessage = async (id, call) => succeed(api.GET("/v1/messages/{id}", { ...message(id), ...authForMessage(call, id) }));
  const getMailbox = (mailbox, call) => succeed(api.GET("/v1/mailboxes/{address}", { ...address(mailbox), ...auth(call, mailbox) }));
  const waitDeps = {
    async openEvents(mailbox, lastEventId, call) {
      const base = auth(call, mailbox);
      return succeed(api.GET("/v1/mailboxes/{address}/events", {
        ...address(mailbox),
        ...base,
        headers: {
          ...base.headers,
          accept: "text/event-stream",
          ...lastEventId !== null ? { "last-event-id": lastEventId } : {}
        },
        parseAs: "stream"
      }));
    },
    listMessages: (mailbox, query, call) => listMessages(mailbox, { ...query, ...call }),
    getMessage,
    getMailbox
  };
  const waitForValue = (mailbox, what, field, waitOptions) => waitFor(waitDeps, mailbox, { what, take: async (candidate) => candidate[field] }, splitFilter(waitOptions), waitOptions);
  const client = {
    api,
    async createMailbox(body = {}, call) {
      const created = await succeed(api.POST("/v1/mailboxes", { body, ...auth(call) }));
      mailboxTokens.set(created.address.toLowerCase(), created.token);
      return created;
    },
    getMailbox,
    updateMailbox: (mailbox, body, call) => succeed(api.PATCH("/v1/mailboxes/{address}", { ...address(mailbox), body, ...auth(call, mailbox) })),
    async deleteMailbox(mailbox, call) {
      const { response, error } = await api.DELETE("/v1/mailboxes/{address}", {
        ...address(mailbox),
        ...auth(call, mailbox)
      });
      if (!response.ok)
        throw problemOf(response, error);
      mailboxTokens.delete(mailbox.toLowerCase());
    },
    async listMailboxes(call = {}) {
      const { limit, ...rest } = call;
      const page = await succeed(api.GET("/v1/mailboxes", { params: { query: limit ? { limit } : {} }, ...auth(rest) }));
      return page.items;
    },
    async listDomains(call = {}) {
      const { type, ...rest } = call;
      const list = await succeed(api.GET("/v1/domains", { params: { query: type ? { type } : {} }, ...auth(rest) }));
      return list.domains;
    },
    listMessages,
    async clearMailbox(mailbox, call) {
      const cleared = await succeed(api.DELETE("/v1/mailboxes/{address}/messages", { ...address(mailbox), ...auth(call, mailbox) }));
      return cleared.deleted;
    },
    getMessage,
    async getRaw(id, call) {
      const raw = await succeed(api.GET("/v1/messages/{id}/raw", {
        ...message(id),
        ...authForMessage(call, id),
        parseAs: "arrayBuffer"
      }));
      return new Uint8Array(raw);
    },
    markSeen(id, { seen = true, ...call } = {}) {
      return succeed(api.PATCH("/v1/messages/{id}", { ...message(id), body: { seen }, ...authForMessage(call, id) }));
    },
    async deleteMessage(id, call) {
      const { response, error } = await api.DELETE("/v1/messages/{id}", {
        ...message(id),
        ...authForMessage(call, id)
      });
      if (!response.ok)
        throw problemOf(response, error);
    },
    async waitForMessage(mailbox, filter = {}, waitOptions = {}) {
      const found = await waitFor(waitDeps, mailbox, { what: "message", take: (_candidate, full) => full() }, filter, waitOptions);
      if (found)
        rememberMessages(mailbox, [found.id]);
      return found;
    },
    waitForOtp: (mailbox, waitOptions = {}) => waitForValue(mailbox, "one-time code", "otp", waitOptions),
    waitForLink: (mailbox, waitOptions = {}) => waitForValue(mailbox, "link", "link", waitOptions)
  };
  return client;
}
export {
  DEFAULT_WAIT_MS,
  EphemailProblem,
  EphemailTimeout,
  createClient2 as createClient,
  describeWait
};
