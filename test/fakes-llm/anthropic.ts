import type { ServerResponse } from 'node:http';
import { FakeServer, chunksOf, streamChunks, type Script } from './fake-server.js';

function fail(response: ServerResponse, script: Script): boolean {
  if (!script.status) return false;
  const type =
    { 401: 'authentication_error', 404: 'not_found_error', 429: 'rate_limit_error', 529: 'overloaded_error' }[script.status] ?? 'api_error';
  response.writeHead(script.status, { 'content-type': 'application/json', ...script.headers });
  response.end(JSON.stringify({ type: 'error', error: { type, message: script.message ?? 'error' } }));
  return true;
}

const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

/** Speaks the Messages API with its SSE event types, and /v1/models. */
export function startFakeAnthropic(): Promise<FakeServer> {
  return new FakeServer({
    'POST /v1/messages': async (request, script, response) => {
      if (fail(response, script)) return;
      const usage = script.usage ?? { input: 42, output: chunksOf(script).length };
      response.writeHead(200, { 'content-type': 'text/event-stream', ...script.headers });
      response.write(
        event('message_start', {
          type: 'message_start',
          message: {
            id: 'msg_fake',
            type: 'message',
            role: 'assistant',
            model: request.body.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: usage.input, output_tokens: 1 },
          },
        }),
      );
      response.write(event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
      const finished = await streamChunks(response, script, (chunk) =>
        event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: chunk } }),
      );
      if (!finished) return;
      response.write(event('content_block_stop', { type: 'content_block_stop', index: 0 }));
      response.write(
        event('message_delta', {
          type: 'message_delta',
          delta: { stop_reason: 'end_turn', stop_sequence: null },
          usage: { output_tokens: usage.output },
        }),
      );
      response.end(event('message_stop', { type: 'message_stop' }));
    },
    'GET /v1/models': (_request, script, response) => {
      if (fail(response, script)) return;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          data: [{ type: 'model', id: 'claude-sonnet-4-5', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' }],
          has_more: false,
          first_id: 'claude-sonnet-4-5',
          last_id: 'claude-sonnet-4-5',
        }),
      );
    },
  }).start();
}
