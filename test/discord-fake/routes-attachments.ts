import type { FakeContext } from './context.js';
import { invalidForm } from './errors.js';
import type { Route } from './router.js';

/**
 * `POST /attachments/refresh-urls` `{ attachment_urls: [...] }` (at most 50) answers
 * `{ refreshed_urls: [{ original, refreshed }] }`: each of the fake's attachment links signed anew from now, expired
 * or not. A link that is not one of the fake's attachments comes back unchanged (the fake's choice: Discord's answer
 * for foreign links is not documented).
 */
export const attachmentRoutes: Route[] = [
  {
    method: 'POST',
    path: '/attachments/refresh-urls',
    handle: (request, ctx) => {
      const urls: unknown = request.body?.attachment_urls;
      if (!Array.isArray(urls) || urls.length === 0 || urls.length > 50 || !urls.every((url) => typeof url === 'string')) {
        throw invalidForm([{ path: ['attachment_urls'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 50 in length.' }]);
      }
      return { body: { refreshed_urls: urls.map((original: string) => ({ original, refreshed: refresh(ctx, original) })) } };
    },
  },
];

function refresh(ctx: FakeContext, original: string): string {
  let url: URL;
  try {
    url = new URL(original);
  } catch {
    return original;
  }
  const id = url.pathname.split('/')[3] ?? '';
  if (url.origin !== ctx.baseUrl() || !url.pathname.startsWith('/attachments/') || !ctx.store.files.has(id)) return original;
  url.search = '';
  return ctx.cdn.sign(url.toString());
}
