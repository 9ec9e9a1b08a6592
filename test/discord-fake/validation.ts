import { emptyMessage, invalidForm, type FieldProblem } from './errors.js';

/** The message fields the fake understands (channel messages, webhooks, interaction responses). */
export interface MessageBody {
  content?: string | null;
  embeds?: EmbedBody[] | null;
  components?: ComponentBody[] | null;
  attachments?: { id: string | number; filename?: string; description?: string }[] | null;
  allowed_mentions?: { parse?: string[]; users?: string[]; roles?: string[]; replied_user?: boolean } | null;
  message_reference?: { message_id?: string; channel_id?: string; guild_id?: string; fail_if_not_exists?: boolean; type?: number } | null;
  flags?: number | null;
  tts?: boolean;
  nonce?: string | number;
  sticker_ids?: string[];
  poll?: unknown;
  username?: string;
  avatar_url?: string;
  thread_name?: string;
}

export interface EmbedBody {
  title?: string;
  description?: string;
  url?: string;
  fields?: { name?: string; value?: string; inline?: boolean }[];
  footer?: { text?: string };
  author?: { name?: string; url?: string };
  image?: { url?: string };
  thumbnail?: { url?: string };
  [key: string]: unknown;
}

export interface ComponentBody {
  type: number;
  custom_id?: string;
  label?: string;
  style?: number;
  url?: string;
  components?: ComponentBody[];
  component?: ComponentBody;
  accessory?: ComponentBody;
  [key: string]: unknown;
}

const COMPONENTS_V2 = 1 << 15;

const maxLength = (path: FieldProblem['path'], max: number): FieldProblem => ({
  path,
  code: 'BASE_TYPE_MAX_LENGTH',
  message: `Must be ${max} or fewer in length.`,
});

/**
 * Checks a message body the way Discord does for the limits that matter to a
 * bot: content ≤ 2000, embed limits (description ≤ 4096, total ≤ 6000),
 * component rows, webhook username rules. Throws DiscordError (400).
 */
export function validateMessageBody(body: MessageBody, options: { fileCount: number; isEdit: boolean }): void {
  const problems: FieldProblem[] = [];
  if (typeof body.content === 'string' && body.content.length > 2000) problems.push(maxLength(['content'], 2000));
  validateEmbeds(body.embeds ?? [], problems);
  validateComponents(body.components ?? [], Boolean((body.flags ?? 0) & COMPONENTS_V2), problems);
  if (body.username !== undefined) problems.push(...webhookNameProblems(body.username, 'username'));
  if (body.avatar_url !== undefined && body.avatar_url !== null && !isHttpUrl(body.avatar_url)) {
    problems.push({ path: ['avatar_url'], code: 'URL_TYPE_INVALID_URL', message: 'Not a well formed URL.' });
  }
  if (problems.length > 0) throw invalidForm(problems);
  if (options.isEdit) return;
  const hasContent = typeof body.content === 'string' && body.content.length > 0;
  const hasSomething =
    hasContent ||
    (body.embeds?.length ?? 0) > 0 ||
    (body.components?.length ?? 0) > 0 ||
    (body.sticker_ids?.length ?? 0) > 0 ||
    body.poll !== undefined ||
    options.fileCount > 0;
  if (!hasSomething) throw emptyMessage();
}

/** Discord's rules for webhook names (create) and usernames (execute). */
export function webhookNameProblems(name: unknown, field: 'name' | 'username'): FieldProblem[] {
  if (typeof name !== 'string') return [{ path: [field], code: 'BASE_TYPE_REQUIRED', message: 'This field is required' }];
  const problems: FieldProblem[] = [];
  if (name.length < 1 || name.length > 80) {
    problems.push({ path: [field], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 80 in length.' });
  }
  for (const banned of ['discord', 'clyde']) {
    if (name.toLowerCase().includes(banned)) {
      problems.push({ path: [field], code: 'USERNAME_INVALID_CONTAINS', message: `Username cannot contain "${banned}"` });
    }
  }
  if (['everyone', 'here'].includes(name.trim().toLowerCase())) {
    problems.push({ path: [field], code: 'USERNAME_INVALID', message: 'Username is not allowed' });
  }
  return problems;
}

function validateEmbeds(embeds: EmbedBody[], problems: FieldProblem[]): void {
  if (embeds.length > 10) problems.push(maxLength(['embeds'], 10));
  let total = 0;
  embeds.forEach((embed, index) => {
    const at = (...path: (string | number)[]) => ['embeds', index, ...path];
    const limit = (value: string | undefined, max: number, path: (string | number)[]) => {
      if (value === undefined) return;
      total += value.length;
      if (value.length > max) problems.push(maxLength(at(...path), max));
    };
    limit(embed.title, 256, ['title']);
    limit(embed.description, 4096, ['description']);
    limit(embed.footer?.text, 2048, ['footer', 'text']);
    limit(embed.author?.name, 256, ['author', 'name']);
    if ((embed.fields?.length ?? 0) > 25) problems.push(maxLength(at('fields'), 25));
    embed.fields?.forEach((field, fieldIndex) => {
      for (const key of ['name', 'value'] as const) {
        const value = field[key];
        if (typeof value !== 'string' || value.length === 0) {
          problems.push({ path: at('fields', fieldIndex, key), code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
        } else limit(value, key === 'name' ? 256 : 1024, ['fields', fieldIndex, key]);
      }
    });
    for (const [path, url] of [
      [['url'], embed.url],
      [['image', 'url'], embed.image?.url],
      [['thumbnail', 'url'], embed.thumbnail?.url],
    ] as const) {
      if (url !== undefined && !isHttpUrl(url) && !url.startsWith('attachment://')) {
        problems.push({ path: at(...path), code: 'URL_TYPE_INVALID_SCHEME', message: "Scheme must be one of ('http', 'https')." });
      }
    }
  });
  if (total > 6000)
    problems.push({ path: ['embeds'], code: 'MAX_EMBED_SIZE_EXCEEDED', message: 'Embed size exceeds maximum size of 6000' });
}

function validateComponents(components: ComponentBody[], v2: boolean, problems: FieldProblem[]): void {
  if (!v2 && components.length > 5) problems.push(maxLength(['components'], 5));
  const seen = new Set<string>();
  const visit = (component: ComponentBody, path: (string | number)[]) => {
    if (component.type === 1) {
      const children = component.components ?? [];
      if (children.length < 1 || children.length > 5) {
        problems.push({ path: [...path, 'components'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 5 in length.' });
      }
    }
    if (component.custom_id !== undefined) {
      if (component.custom_id.length > 100) problems.push(maxLength([...path, 'custom_id'], 100));
      if (seen.has(component.custom_id)) {
        problems.push({
          path: [...path, 'custom_id'],
          code: 'COMPONENT_CUSTOM_ID_DUPLICATED',
          message: 'Component custom id cannot be duplicated',
        });
      }
      seen.add(component.custom_id);
    }
    if (component.type === 2) {
      if (typeof component.label === 'string' && component.label.length > 80) problems.push(maxLength([...path, 'label'], 80));
      const isLink = component.style === 5;
      if (isLink && !component.url)
        problems.push({ path: [...path, 'url'], code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
      if (!isLink && component.style !== 6 && !component.custom_id) {
        problems.push({ path: [...path, 'custom_id'], code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
      }
    }
    component.components?.forEach((child, index) => visit(child, [...path, 'components', index]));
    if (component.component) visit(component.component, [...path, 'component']);
    if (component.accessory) visit(component.accessory, [...path, 'accessory']);
  };
  components.forEach((component, index) => visit(component, ['components', index]));
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
