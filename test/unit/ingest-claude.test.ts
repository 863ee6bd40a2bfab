import { describe, expect, it } from 'vitest';
import { refineFormat } from '../../src/ingest/formats/index.js';
import { claudeConversation, claudeMessageText } from '../../src/ingest/readers/claude.js';

describe('the Claude export reader', () => {
  it("takes a message's text blocks, and its text field only when it has no blocks", () => {
    expect(
      claudeMessageText({
        text: 'differs',
        content: [
          { type: 'text', text: 'one' },
          { type: 'thinking', thinking: 'hmm' },
          { type: 'tool_use', name: 'x', input: {} },
          { type: 'tool_result', content: [{ type: 'text', text: 'result' }] },
          { type: 'text', text: 'two' },
        ],
      }),
    ).toBe('one\ntwo');
    expect(claudeMessageText({ text: 'older export' })).toBe('older export');
    // An empty list of blocks is no blocks: the text field is all there is.
    expect(claudeMessageText({ text: 'only here', content: [] })).toBe('only here');
    expect(claudeMessageText({ text: 'ignored', content: [{ type: 'thinking' }] })).toBe('');
  });

  it('names attachments and files, with the extracted text when there is some', () => {
    expect(
      claudeMessageText({
        content: [],
        attachments: [{ file_name: 'a.txt', extracted_content: 'A' }, { file_size: 3 }],
        files: [{ file_name: 'p.png' }],
      }),
    ).toBe('[attachment a.txt]\nA\n[attachment unnamed]\n[file p.png]');
  });

  it('other senders are left out; no turn left is empty; not a conversation is an error', () => {
    const conv = (messages: unknown[]) => ({ uuid: 'u', name: 'n', chat_messages: messages });
    expect(claudeConversation(conv([{ sender: 'system', text: 'x' }]))).toEqual({ empty: true });
    expect(claudeConversation({ uuid: 'u' })).toEqual({
      error: expect.stringMatching(/chat_messages/),
    });
    const ok = claudeConversation(conv([{ sender: 'human', text: 'hi' }]));
    expect(ok).toEqual({
      document: {
        document: 'User: hi',
        document_type: 'ai-chat-conversation',
        document_id: 'claude:u',
        metadata: { source: 'claude', name: 'n' },
      },
    });
  });

  it('is told from a JSON array and from a ChatGPT export by its chat_messages', () => {
    expect(refineFormat('json', Buffer.from('[{"uuid":"u","name":"n","chat_messages":[]}]'))).toBe(
      'claude',
    );
    expect(refineFormat('json', Buffer.from('[{"note":"\\"chat_messages\\": ["}]'))).toBe('json');
  });
});
