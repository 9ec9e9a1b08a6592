import type { ServerResponse } from 'node:http';
import { FakeServer, chunksOf, streamChunks, type Script } from './fake-server.js';

function fail(response: ServerResponse, script: Script): boolean {
  if (!script.status) return false;
  response.writeHead(script.status, { 'content-type': 'application/json', ...script.headers });
  response.end(JSON.stringify({ error: script.message ?? 'error' }));
  return true;
}

/** Speaks /api/chat (NDJSON streaming), /api/tags and /api/embed. */
export function startFakeOllama(): Promise<FakeServer> {
  return new FakeServer({
    'POST /api/chat': async (request, script, response) => {
      if (fail(response, script)) return;
      const model = request.body.model as string;
      const at = '2026-11-22T00:00:00Z';
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const finished = await streamChunks(
        response,
        script,
        (chunk) => `${JSON.stringify({ model, created_at: at, message: { role: 'assistant', content: chunk }, done: false })}\n`,
      );
      if (!finished) return;
      const usage = script.usage ?? { input: 42, output: chunksOf(script).length };
      response.end(
        `${JSON.stringify({ model, created_at: at, message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', prompt_eval_count: usage.input, eval_count: usage.output })}\n`,
      );
    },
    'GET /api/tags': (_request, script, response) => {
      if (fail(response, script)) return;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          models: [{ name: 'llama3.2:3b', model: 'llama3.2:3b', modified_at: '2026-01-01T00:00:00Z', size: 1, digest: 'x', details: {} }],
        }),
      );
    },
    'POST /api/embed': (request, script, response) => {
      if (fail(response, script)) return;
      const inputs: string[] = Array.isArray(request.body.input) ? request.body.input : [request.body.input];
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ model: request.body.model, embeddings: inputs.map((text) => [text.length, 2, 3]) }));
    },
  }).start();
}
