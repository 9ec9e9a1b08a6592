import { FakeServer, chunksOf, streamChunks, type Script } from './fake-server.js';
import type { ServerResponse } from 'node:http';

/** OpenAI's error body shape. */
function fail(response: ServerResponse, script: Script): boolean {
  if (!script.status) return false;
  response.writeHead(script.status, { 'content-type': 'application/json', ...script.headers });
  response.end(JSON.stringify({ error: { message: script.message ?? 'error', type: 'invalid_request_error', code: null } }));
  return true;
}

/** Speaks /v1/chat/completions (SSE), /v1/models and /v1/embeddings. */
export function startFakeOpenAI(): Promise<FakeServer> {
  return new FakeServer({
    'POST /v1/chat/completions': async (request, script, response) => {
      if (fail(response, script)) return;
      const model = request.body.model as string;
      const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model };
      response.writeHead(200, { 'content-type': 'text/event-stream', ...script.headers });
      const finished = await streamChunks(
        response,
        script,
        (chunk, index) =>
          `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: index === 0 ? { role: 'assistant', content: chunk } : { content: chunk }, finish_reason: null }] })}\n\n`,
      );
      if (!finished) return;
      response.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
      if (request.body.stream_options?.include_usage) {
        const usage = script.usage ?? { input: 42, output: chunksOf(script).length };
        response.write(
          `data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output } })}\n\n`,
        );
      }
      response.end('data: [DONE]\n\n');
    },
    'GET /v1/models': (_request, script, response) => {
      if (fail(response, script)) return;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          object: 'list',
          data: [
            { id: 'gpt-4o-mini', object: 'model', created: 1, owned_by: 'fake' },
            { id: 'gpt-4o', object: 'model', created: 1, owned_by: 'fake' },
          ],
        }),
      );
    },
    'POST /v1/embeddings': (request, script, response) => {
      if (fail(response, script)) return;
      const inputs: string[] = Array.isArray(request.body.input) ? request.body.input : [request.body.input];
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          object: 'list',
          model: request.body.model,
          data: inputs.map((text, index) => ({ object: 'embedding', index, embedding: [text.length, index, 1] })),
          usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
        }),
      );
    },
  }).start('/v1');
}
