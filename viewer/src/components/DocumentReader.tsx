/**
 * One document, readable in the page: plain text, a Composition's sections, HTML (as text: a
 * source's markup is never run or trusted) and PDF (its text, see model/pdf-text.ts). There is no
 * download and no print: a document held only at its source says so. Opening a document reads it
 * afresh from the server, which records the view in the audit trail (a document opened is a
 * different fact from a record opened) and answers 404 if it is no longer shared.
 *
 * The read is started by the click that opens the document (components/Documents.tsx), not by this
 * component's effect: one click is one read and one audited view, however often React mounts or
 * re-renders the reader (a remount, or StrictMode's second effect run, used to read it again).
 */
import { useEffect, useState } from 'react';
import type {
  Attachment,
  Composition,
  DocumentReference,
  QuestionnaireResponse,
  Resource,
} from '@medplum/fhirtypes';
import { formatDate } from '../model/format.ts';
import type { Item } from '../model/item.ts';
import { base64ToBytes, pdfText } from '../model/pdf-text.ts';
import { ApiError } from '../session.ts';
import { CopyReference } from './CopyReference.tsx';

interface Block {
  heading?: string;
  text: string;
  note?: string;
}

/** Text of untrusted HTML/XHTML, keeping line breaks between blocks. */
function htmlToText(html: string): string {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  doc.querySelectorAll('script, style').forEach((n) => n.remove());
  doc.querySelectorAll('br').forEach((n) => n.replaceWith('\n'));
  doc.querySelectorAll('p, div, li, tr, h1, h2, h3, h4, h5, h6').forEach((n) => n.append('\n'));
  return (doc.body.textContent ?? '').replace(/\n{3,}/g, '\n\n').trim();
}

async function attachmentBlock(a: Attachment, holder: string): Promise<Block> {
  const type = (a.contentType ?? '').split(';')[0]!.trim();
  if (!a.data)
    return {
      text: '',
      note: `This document is held by ${holder} and is not included in the shared record. Ask ${holder} for it.`,
    };
  const bytes = base64ToBytes(a.data);
  if (type === 'application/pdf') {
    const pdf = await pdfText(bytes);
    if (!pdf.readable)
      return {
        text: '',
        note: `This PDF has no text that can be shown here (it may be a scanned image). Ask ${holder} for it.`,
      };
    return { text: pdf.lines.join('\n'), note: 'PDF document, shown as text.' };
  }
  const text = new TextDecoder('utf-8').decode(bytes);
  if (type === 'text/html' || type === 'application/xhtml+xml') return { text: htmlToText(text) };
  if (type.startsWith('text/')) return { text };
  return {
    text: '',
    note: `This document (${type || 'unknown format'}) cannot be shown here. Ask ${holder} for it.`,
  };
}

async function blocksOf(item: Item, r: Resource): Promise<Block[]> {
  if (r.resourceType === 'DocumentReference') {
    const d = r as DocumentReference;
    const list = await Promise.all(
      (d.content ?? []).map((c) => attachmentBlock(c.attachment, item.prov.orgName)),
    );
    return list.length ? list : [{ text: '', note: 'This document has no content.' }];
  }
  if (r.resourceType === 'Composition')
    return ((r as Composition).section ?? []).map((s) => ({
      ...(s.title ? { heading: s.title } : {}),
      text: s.text?.div ? htmlToText(s.text.div) : '',
    }));
  if (r.resourceType === 'QuestionnaireResponse')
    return ((r as QuestionnaireResponse).item ?? []).map((q) => ({
      heading: q.text ?? q.linkId,
      text: (q.answer ?? [])
        .map(
          (a) =>
            a.valueString ?? a.valueCoding?.display ?? a.valueInteger ?? a.valueDate ?? a.valueBoolean ?? '',
        )
        .join(', '),
    }));
  return [];
}

/** A document being opened: the item and its one read from the server, started by the click. */
export interface Opening {
  item: Item;
  resource: Promise<Resource>;
}

interface Props {
  opening: Opening;
  onClose(): void;
}

export function DocumentReader({ opening, onClose }: Props) {
  const { item } = opening;
  const [blocks, setBlocks] = useState<Block[] | undefined>();
  useEffect(() => {
    let live = true;
    setBlocks(undefined);
    opening.resource
      .then((resource) => blocksOf(opening.item, resource))
      .then(
        (b) => live && setBlocks(b),
        (err: unknown) =>
          live &&
          setBlocks([
            {
              text: '',
              note:
                err instanceof ApiError && err.status === 404
                  ? 'This document is no longer in the shared record. Open the record again to see what is shared now.'
                  : 'This document could not be read. Try again, or ask its source for it.',
            },
          ]),
      );
    return () => {
      live = false;
    };
  }, [opening]);
  return (
    <section
      id="document-reader"
      className="sc-document"
      tabIndex={-1}
      aria-labelledby="document-title"
      data-testid="document-reader"
    >
      <h3 id="document-title">{item.title}</h3>
      <p className="sc-status-line">
        {[item.kind, item.prov.orgName, formatDate(item.date)].filter(Boolean).join(' · ')}
      </p>
      {!blocks ? (
        <p role="status">Reading the document…</p>
      ) : (
        blocks.map((b, i) => (
          <div key={i}>
            {b.heading && <h4 className="nhsuk-u-font-size-16 nhsuk-u-margin-bottom-1">{b.heading}</h4>}
            {b.note && <p className="sc-status-line">{b.note}</p>}
            {b.text && <pre>{b.text}</pre>}
          </div>
        ))
      )}
      <p>
        <CopyReference item={item} />
        {' · '}
        <button type="button" className="sc-button sc-button--link" onClick={onClose}>
          Close the document
        </button>
      </p>
    </section>
  );
}
