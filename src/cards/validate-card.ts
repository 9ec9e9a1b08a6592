/**
 * SillyTavern's TavernCardValidator (src/validator/TavernCardValidator.js), ported: what ST checks before it saves
 * a card. `validate` answers the first spec the card satisfies (1, 2 or 3, V1 first as in ST) or false, and `error`
 * names the field that failed. Exports are checked against V2 and V3 directly in the tests.
 */
export class TavernCardValidator {
  error: string | null = null;

  constructor(private readonly card: Record<string, unknown>) {}

  validate(): 1 | 2 | 3 | false {
    this.error = null;
    if (this.validateV1()) return 1;
    if (this.validateV2()) return 2;
    if (this.validateV3()) return 3;
    return false;
  }

  validateV1(): boolean {
    return this.#has(this.card, ['name', 'description', 'personality', 'scenario', 'first_mes', 'mes_example'], '');
  }

  validateV2(): boolean {
    return this.#specIs('chara_card_v2') && this.#specVersionV2() && this.#dataV2() && this.#characterBookV2();
  }

  validateV3(): boolean {
    if (!this.#specIs('chara_card_v3')) return false;
    const version = Number(this.card.spec_version);
    if (!(version >= 3.0 && version < 4.0)) return this.#fail('spec_version');
    const data = this.card.data;
    if (!data || typeof data !== 'object') return this.#fail('No tavern card data found');
    return true;
  }

  #specIs(spec: string): boolean {
    return this.card.spec === spec || this.#fail('spec');
  }

  #specVersionV2(): boolean {
    return this.card.spec_version === '2.0' || this.#fail('spec_version');
  }

  #dataV2(): boolean {
    const data = this.card.data as Record<string, unknown> | undefined;
    if (!data) return this.#fail('No tavern card data found');
    const required = [
      'name',
      'description',
      'personality',
      'scenario',
      'first_mes',
      'mes_example',
      'creator_notes',
      'system_prompt',
      'post_history_instructions',
      'alternate_greetings',
      'tags',
      'creator',
      'character_version',
      'extensions',
    ];
    return (
      this.#has(data, required, 'data.') &&
      Array.isArray(data.alternate_greetings) &&
      Array.isArray(data.tags) &&
      typeof data.extensions === 'object'
    );
  }

  #characterBookV2(): boolean {
    const book = (this.card.data as Record<string, unknown>).character_book as Record<string, unknown> | undefined;
    if (!book) return true;
    return (
      this.#has(book, ['extensions', 'entries'], 'data.character_book.') &&
      Array.isArray(book.entries) &&
      typeof book.extensions === 'object'
    );
  }

  #has(object: Record<string, unknown>, fields: string[], prefix: string): boolean {
    const missing = fields.find((field) => !Object.hasOwn(object, field));
    return missing === undefined || this.#fail(`${prefix}${missing}`);
  }

  #fail(error: string): false {
    this.error = error;
    return false;
  }
}
