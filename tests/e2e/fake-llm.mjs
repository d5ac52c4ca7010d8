// Local stand-ins for the remote LLM APIs, speaking their real wire protocols
// over HTTP on loopback: OpenAI Chat Completions (POST /v1/chat/completions)
// and the Anthropic Messages API (POST /v1/messages). Each test scripts the
// answers; the server checks each request's shape as the real API would and
// records it for assertions.
import http from 'node:http';
import https from 'node:https';

// A scripted step: a string (the model's text), or
// { status, body, headers, delayMs, text } for errors and slow answers.
export async function startFakeLlm({ apiKey = 'test-key', tls = null } = {}) {
  const fake = { script: [], requests: [], aborted: [], apiKey };
  const handler = (req, res) => {
    // a client that hangs up before the answer is written (a cancelled call)
    res.on('close', () => { if (!res.writableEnded) fake.aborted.push({ url: req.url, at: Date.now() }); });
    let raw = '';
    req.on('data', (d) => { raw += d; });
    req.on('end', () => {
      let body;
      try { body = JSON.parse(raw); } catch { body = null; }
      const kind = req.url.startsWith('/v1/chat/completions') ? 'openai' : req.url === '/v1/messages' ? 'anthropic' : null;
      fake.requests.push({ kind, url: req.url, headers: req.headers, body });
      const send = (status, payload, headers = {}) => {
        const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
        res.end(text);
      };
      const problem = validate(kind, req, body, fake.apiKey);
      if (problem) return send(problem.status, errorBody(kind, problem.message, problem.type));
      const step = fake.script.length > 0 ? fake.script.shift() : fake.fallback;
      if (step === undefined) return send(500, errorBody(kind, 'the fake LLM has no scripted answer left', 'server_error'));
      const s = typeof step === 'string' ? { text: step } : typeof step === 'function' ? step(body, kind) : step;
      const reply = () => {
        if (s.status && s.status !== 200) return send(s.status, s.body ?? errorBody(kind, s.message ?? 'scripted failure', s.type ?? 'error'), s.headers);
        if (s.raw !== undefined) return send(200, s.raw);
        return send(200, kind === 'openai' ? openAiReply(body, s.text) : anthropicReply(body, s.text));
      };
      if (s.delayMs) {
        const timer = setTimeout(reply, s.delayMs);
        res.on('close', () => clearTimeout(timer));
      } else reply();
    });
  };
  // tls: { key, cert } in PEM serves HTTPS
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  fake.url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  fake.close = () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); });
  fake.reset = () => { fake.script = []; fake.requests = []; fake.aborted = []; fake.fallback = undefined; };
  return fake;
}

function validate(kind, req, body, apiKey) {
  if (req.method !== 'POST' || !kind) return { status: 404, message: `no route ${req.method} ${req.url}` };
  if (!body || typeof body !== 'object') return { status: 400, message: 'the body is not JSON', type: 'invalid_request_error' };
  if (typeof body.model !== 'string' || !Array.isArray(body.messages) || body.messages.length === 0)
    return { status: 400, message: 'model and messages are required', type: 'invalid_request_error' };
  if (kind === 'openai') {
    if (req.headers.authorization !== `Bearer ${apiKey}`) return { status: 401, message: `Incorrect API key provided: ${req.headers.authorization}`, type: 'invalid_api_key' };
    if (!body.messages.every((m) => ['system', 'user', 'assistant'].includes(m.role) && typeof m.content === 'string'))
      return { status: 400, message: 'bad message', type: 'invalid_request_error' };
  } else {
    if (req.headers['x-api-key'] !== apiKey) return { status: 401, message: 'invalid x-api-key', type: 'authentication_error' };
    if (!req.headers['anthropic-version']) return { status: 400, message: 'anthropic-version header is required', type: 'invalid_request_error' };
    if (typeof body.max_tokens !== 'number') return { status: 400, message: 'max_tokens: Field required', type: 'invalid_request_error' };
    if (body.messages[0].role !== 'user' || body.messages.some((m) => m.role === 'system'))
      return { status: 400, message: 'messages must start with user; system goes in "system"', type: 'invalid_request_error' };
    for (let i = 1; i < body.messages.length; i++)
      if (body.messages[i].role === body.messages[i - 1].role) return { status: 400, message: 'roles must alternate', type: 'invalid_request_error' };
  }
  return null;
}

function errorBody(kind, message, type) {
  return kind === 'anthropic' ? { type: 'error', error: { type, message } } : { error: { message, type, code: type } };
}

function openAiReply(body, text) {
  return {
    id: 'chatcmpl-fake', object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: `${body.model}-fake`,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
  };
}

function anthropicReply(body, text) {
  return {
    id: 'msg_fake', type: 'message', role: 'assistant', model: `${body.model}-fake`,
    content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null,
    usage: { input_tokens: 90, output_tokens: 15 },
  };
}

// The text of the last user message a request carried.
export function lastUserText(request) {
  const users = request.body.messages.filter((m) => m.role === 'user');
  const last = users[users.length - 1];
  return typeof last.content === 'string' ? last.content : last.content.map((c) => c.text).join('');
}
