import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { createdAt, id } from './common.js';
import { Message } from './message.js';

/**
 * An image someone posted with a message: the bytes as sent to vision models
 * (resized and recompressed once), and its caption for models without vision,
 * for older turns and for memory. Goes with its message.
 */
export const MessageImage = defineEntity({
  name: 'MessageImage',
  tableName: 'message_images',
  properties: {
    id: id(),
    message: () => p.manyToOne(Message).deleteRule('cascade').index('idx_message_images_message'),
    /** Order within the message. */
    position: p.integer().default(0),
    mimeType: p.string().length(50),
    width: p.integer(),
    height: p.integer(),
    data: p.blob(),
    caption: p.text().nullable(),
    /** Which provider and model wrote the caption. */
    captionedBy: p.string().length(150).nullable(),
    createdAt: createdAt(),
  },
});
export type IMessageImage = InferEntity<typeof MessageImage>;
