import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chatgptConversation, currentNode, messageText } from '../../src/ingest/readers/chatgpt.js';
import { sniffFormat } from '../../src/ingest/formats/index.js';
import { refineFormat } from '../../src/ingest/formats/index.js';

type Node = { id: string; parent: string | null; children: string[]; message: unknown };

/** A random message tree: node i's parent is one of nodes 0..i-1; node 0 is the root. */
const trees = fc
  .array(
    fc.record({
      parent: fc.nat(),
      role: fc.constantFrom('user', 'assistant', 'system', 'tool'),
      type: fc.constantFrom('text', 'text', 'thoughts', 'code', 'reasoning_recap'),
      hidden: fc.integer({ min: 0, max: 6 }).map((n) => n === 0),
      nullMessage: fc.boolean(),
    }),
    { minLength: 1, maxLength: 40 },
  )
  .chain((specs) =>
    fc.record({ specs: fc.constant(specs), current: fc.nat({ max: specs.length - 1 }) }),
  );

function build(
  specs: { parent: number; role: string; type: string; hidden: boolean; nullMessage: boolean }[],
) {
  const mapping: Record<string, Node> = {};
  specs.forEach((s, i) => {
    const id = `n${i}`;
    const parent = i === 0 ? null : `n${s.parent % i}`;
    const content =
      s.type === 'text'
        ? { content_type: 'text', parts: [`said ${i}`] }
        : s.type === 'code'
          ? { content_type: 'code', text: `code ${i}` }
          : { content_type: s.type, content: `hidden ${i}` };
    mapping[id] = {
      id,
      parent,
      children: [],
      message:
        i === 0 && s.nullMessage
          ? null
          : {
              id,
              author: { role: s.role },
              content,
              create_time: 1000 + i,
              metadata: s.hidden ? { is_visually_hidden_from_conversation: true } : {},
            },
    };
    if (parent) mapping[parent]!.children.push(id);
  });
  return mapping;
}

/** The turns expected on the path root → `current`, by walking parents the slow way. */
function expectedTurns(mapping: Record<string, Node>, current: string): string[] {
  const path: Node[] = [];
  for (let n: Node | undefined = mapping[current]; n; n = n.parent ? mapping[n.parent] : undefined)
    path.unshift(n);
  const turns: string[] = [];
  for (const n of path) {
    const m = n.message as {
      author: { role: string };
      content: { content_type: string; parts?: string[]; text?: string };
      metadata: { is_visually_hidden_from_conversation?: boolean };
    } | null;
    if (!m || m.metadata.is_visually_hidden_from_conversation) continue;
    if (m.author.role !== 'user' && m.author.role !== 'assistant') continue;
    const label = m.author.role === 'user' ? 'User' : 'Assistant';
    if (m.content.content_type === 'text') turns.push(`${label}: ${m.content.parts![0]}`);
    else if (m.content.content_type === 'code') turns.push(`${label}: ${m.content.text}`);
  }
  return turns;
}

describe('the ChatGPT export reader', () => {
  it('holds exactly the user/assistant turns on the path to current_node, in order (property)', () => {
    fc.assert(
      fc.property(trees, ({ specs, current }) => {
        const mapping = build(specs);
        const conv = { id: 'c', mapping, current_node: `n${current}`, create_time: 1 };
        const want = expectedTurns(mapping, `n${current}`);
        const got = chatgptConversation(conv);
        if (want.length === 0) expect(got).toEqual({ empty: true });
        else expect('document' in got && got.document.document).toBe(want.join('\n'));
      }),
      { numRuns: 300 },
    );
  });

  it('without current_node (or one the mapping lacks) ends at the most recently created leaf', () => {
    fc.assert(
      fc.property(trees, ({ specs }) => {
        const mapping = build(specs);
        const leaves = Object.values(mapping).filter((n) => n.children.length === 0);
        const newest = leaves.reduce((a, b) => {
          const t = (n: Node) => (n.message as { create_time?: number } | null)?.create_time ?? -1;
          return t(b) >= t(a) ? b : a;
        });
        expect(currentNode(mapping, undefined)).toBe(newest.id);
        expect(currentNode(mapping, 'not-there')).toBe(newest.id);
      }),
      { numRuns: 200 },
    );
  });

  it('parts that are not strings become placeholders, never [object Object]', () => {
    const said = messageText({
      author: { role: 'user' },
      content: {
        content_type: 'multimodal_text',
        parts: [
          { content_type: 'image_asset_pointer', asset_pointer: 'file-service://x' },
          { content_type: 'audio_asset_pointer' },
          { content_type: 'video_container_asset_pointer' },
          { content_type: 'something_new', n: 1 },
          { content_type: 'audio_transcription', text: 'spoken words' },
          'typed words',
        ],
      },
    });
    expect(said?.text).toBe('[image]\n[audio]\n[video]\n[file]\nspoken words\ntyped words');
    // A null part is nothing, not a file.
    const sparse = messageText({
      author: { role: 'assistant' },
      content: { content_type: 'text', parts: [null, 'words', null] },
    });
    expect(sparse?.text).toBe('words');
  });

  it("attachments (the message's metadata) are named: a pointer part by its file, the others after the text", () => {
    const said = messageText({
      author: { role: 'user' },
      content: {
        content_type: 'multimodal_text',
        parts: [
          { content_type: 'image_asset_pointer', asset_pointer: 'file-service://file-Img1' },
          { content_type: 'image_asset_pointer', asset_pointer: 'sediment://file_0002' },
          'What are these?',
        ],
      },
      metadata: {
        attachments: [
          { id: 'file-Img1', name: 'robin.jpg', mime_type: 'image/jpeg' },
          { id: 'file_0002', name: 'wren.png', mimeType: 'image/png' },
          { id: 'file-Doc', name: 'report.pdf', mime_type: 'application/pdf' },
          { id: 'file-Voice', name: 'note.m4a', mime_type: 'audio/mp4' },
          { id: 'file-Anon' },
        ],
      },
    });
    expect(said?.text).toBe(
      [
        '[image robin.jpg]',
        '[image wren.png]',
        'What are these?',
        '[file report.pdf]',
        '[audio note.m4a]',
        '[file]',
      ].join('\n'),
    );
    // A message of attachments alone is a turn.
    const only = messageText({
      author: { role: 'user' },
      content: { content_type: 'text', parts: [''] },
      metadata: { attachments: [{ id: 'x', name: 'data.csv', mime_type: 'text/csv' }] },
    });
    expect(only?.text).toBe('[file data.csv]');
  });

  it('a cycle in parent links or a hostile key ends the walk instead of looping', () => {
    const mapping = {
      a: {
        parent: 'b',
        children: ['b'],
        message: { author: { role: 'user' }, content: { content_type: 'text', parts: ['A'] } },
      },
      b: {
        parent: 'a',
        children: ['a'],
        message: { author: { role: 'assistant' }, content: { content_type: 'text', parts: ['B'] } },
      },
    };
    const got = chatgptConversation({ id: 'x', mapping, current_node: 'a' });
    // a's parent is b: the walk from a reaches b, then stops where it has been.
    expect('document' in got && got.document.document).toBe('Assistant: B\nUser: A');
    const proto = chatgptConversation({ id: 'y', mapping: {}, current_node: '__proto__' });
    expect(proto).toEqual({ empty: true });
    expect(chatgptConversation({ id: 'z' })).toEqual({
      error: expect.stringMatching(/no "mapping"/),
    });
  });

  it('is told from a plain JSON array by its first conversation', () => {
    const head = Buffer.from(
      '[{"title": "a \\"mapping\\": {", "create_time": 1, "mapping": {"r": {}}}]',
    );
    expect(sniffFormat(head)).toBe('json');
    expect(refineFormat('json', head)).toBe('chatgpt');
    expect(refineFormat('json', Buffer.from('[{"document": "a \\"mapping\\": {"}]'))).toBe('json');
  });
});
