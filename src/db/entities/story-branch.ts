import { defineEntity, p, type InferEntity } from '@mikro-orm/postgresql';
import { createdAt, id, jsonObject } from './common.js';
import { Conversation } from './conversation.js';
import { Message } from './message.js';

/**
 * The alternatives behind regenerate/swipe. Each alternative of one reply is a
 * branch of `message`, ordered by `branchOrder`; the selected one is the
 * message's content, which is what the history keeps.
 */
export const StoryBranch = defineEntity({
  name: 'StoryBranch',
  tableName: 'story_branches',
  properties: {
    id: id(),
    conversation: () => p.manyToOne(Conversation).deleteRule('cascade').index('idx_story_branches_conversation'),
    parent: () => p.manyToOne(StoryBranch).nullable().deleteRule('cascade').index('idx_story_branches_parent'),
    message: () => p.manyToOne(Message).nullable().deleteRule('cascade').index('idx_story_branches_message'),
    title: p.string().length(255).nullable(),
    content: p.text(),
    userDirection: p.text().nullable(),
    generationParams: jsonObject(),
    depth: p.integer().default(0),
    branchOrder: p.integer().default(0),
    isSelected: p.boolean().default(false),
    createdAt: createdAt(),
  },
});
export type IStoryBranch = InferEntity<typeof StoryBranch>;
