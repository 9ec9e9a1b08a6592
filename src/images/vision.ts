import type { ProviderType } from '../llm/types.js';

/**
 * Model families known to take images, by the model's name without any
 * "vendor/" prefix (OpenRouter-style names). Checked as prefixes or, for the
 * generic markers, anywhere in the name. Sources: OpenAI's, Anthropic's and
 * Ollama's model pages (vision / image input), November 2026.
 */
const VISION_PREFIXES = [
  // OpenAI
  'gpt-4o',
  'gpt-4.1',
  'gpt-4-turbo',
  'gpt-4-vision',
  'gpt-4.5',
  'gpt-5',
  'o1',
  'o3',
  'o4',
  'chatgpt-4o',
  // Anthropic: Claude 3 and later (Claude 2 and Instant do not take images)
  'claude-3',
  'claude-sonnet-4',
  'claude-opus-4',
  'claude-haiku-4',
  'claude-4',
  // Google, Mistral, xAI and others reached through compatible servers
  'gemini',
  'gemma3',
  'gemma-3',
  'pixtral',
  'grok-2-vision',
  'grok-4',
  'llama-4',
  'llama4',
  // Ollama library names
  'llava',
  'bakllava',
  'llama3.2-vision',
  'qwen2.5vl',
  'qwen2-vl',
  'qwen2.5-vl',
  'qwen3-vl',
  'minicpm-v',
  'moondream',
  'mistral-small3.1',
  'mistral-small3.2',
  'granite3.2-vision',
  'llama-3.2-11b-vision',
  'llama-3.2-90b-vision',
];
/** Models that carry a vision family's prefix but take no images. */
const NOT_VISION_PREFIXES = [
  'o1-mini',
  'o1-preview',
  'o3-mini',
  'gpt-4o-audio',
  'gpt-4o-realtime',
  'gpt-4o-mini-audio',
  'gemma3:1b',
  'gemma-3-1b',
];
const VISION_MARKERS = ['vision', '-vl', 'vl-', 'llava'];

/** Whether a model takes image input: the setting when there is one (character, then provider), else its name. */
export function acceptsImages(model: string, settings: { character?: boolean; provider?: boolean } = {}): boolean {
  if (settings.character !== undefined) return settings.character;
  if (settings.provider !== undefined) return settings.provider;
  const name = model.toLowerCase().replace(/^.*\//, '');
  if (NOT_VISION_PREFIXES.some((prefix) => name.startsWith(prefix))) return false;
  return VISION_PREFIXES.some((prefix) => name.startsWith(prefix)) || VISION_MARKERS.some((marker) => name.includes(marker));
}

/**
 * What one image of `width` × `height` pixels costs in the prompt, by each
 * vendor's rule:
 * - OpenAI (detail "auto"/high, GPT-4o family): fit within 2048 × 2048, then
 *   the shortest side to 768; 85 tokens plus 170 per 512-px tile
 *   (platform.openai.com/docs/guides/images-vision, "Calculating costs").
 * - Anthropic: width × height / 750 (docs.anthropic.com, "Vision": image costs),
 *   after our resize to at most 1568 px and 1.15 megapixels.
 * - Ollama: the model's vision encoder decides; LLaVA-style encoders take 576
 *   patches per image, Llama 3.2 Vision and Gemma 3 fewer or about as many.
 *   768 is a safe bound for the budget.
 */
export function imageTokens(type: ProviderType, width: number, height: number): number {
  if (type === 'anthropic') return Math.ceil((width * height) / 750);
  if (type === 'ollama') return 768;
  let w = width;
  let h = height;
  const fit = Math.min(1, 2048 / Math.max(w, h));
  w *= fit;
  h *= fit;
  const shortest = Math.min(1, 768 / Math.min(w, h));
  w *= shortest;
  h *= shortest;
  return 85 + 170 * Math.ceil(w / 512) * Math.ceil(h / 512);
}
