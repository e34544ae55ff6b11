/** "Copy reference": a citation of one item for the clinician's own notes (see model/reference.ts). */
import { useState } from 'react';
import { formatDate } from '../model/format.ts';
import type { Item } from '../model/item.ts';
import { referenceText } from '../model/reference.ts';
import { announce } from '../announce.ts';

async function copy(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // no clipboard permission (an embedding frame, an old browser): the selection way
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}

export function CopyReference({ item }: { item: Item }) {
  const [copied, setCopied] = useState('');
  return (
    <button
      type="button"
      className="sc-button sc-button--link"
      aria-label={`Copy reference: ${item.title}, ${item.prov.orgName}, ${formatDate(item.date)}`}
      onClick={() => {
        const text = referenceText(item);
        void copy(text).then(() => {
          setCopied(text);
          announce(`Copied: ${text}`);
          setTimeout(() => setCopied(''), 4000);
        });
      }}
    >
      {copied ? 'Copied' : 'Copy reference'}
    </button>
  );
}
