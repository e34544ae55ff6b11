/**
 * Small hand-made regions, each the smallest form of a way the property found to show something
 * forbidden (or a case worth pinning). They run through the same sending, reads and oracle as the
 * random regions, every time, whatever the seed.
 */
import type { ItemSpec, PersonSpec, ReadPath, ReadSpec, RegionSpec } from './arbitraries.ts';
import { icdVariant, LABELS, LISTED, ORDINARY } from './catalogue.ts';

const HYPERTENSION = ORDINARY[0]!;
const HBA1C = ORDINARY[3]!;
const HIV = LISTED.find((c) => c.code === '86406008')!;
const HIV_TEST = LISTED.find((c) => c.code === '31676001')!;
const RESTRICTED = LABELS.find((l) => l.code === 'R')!;

const item = (over: Partial<ItemSpec>): ItemSpec => ({
  type: 'Condition',
  source: 0,
  codes: [HYPERTENSION],
  labels: [],
  status: 0,
  enteredInError: false,
  when: { days: -20, minute: 600 },
  names: null,
  links: [],
  revision: null,
  ...over,
});
const person = (over: Partial<PersonSpec>): PersonSpec => ({
  sources: ['gp-riverside'],
  items: [],
  alsoKnownTo: [],
  namedGp: null,
  restricted: false,
  objections: [],
  ...over,
});
const reads = (...paths: ReadPath[]): ReadSpec[] =>
  paths.map((path) => ({
    reader: 0,
    person: 0,
    unknownPerson: false,
    path,
    type: 0,
    dates: [],
    statuses: [],
    code: null,
  }));
/** a clinician at the person's GP practice */
const GP = [{ role: 'R8000', org: 'Y90001', boundTo: null, breakGlass: [] }];

export const EXAMPLES: [string, RegionSpec][] = [
  [
    'the Patient does not name a never-shared organisation that holds a record of the person',
    {
      persons: [person({ items: [item({})], alsoKnownTo: ['eastside-sh'] })],
      readers: GP,
      reads: reads('patient-read', 'patient-search', 'everything'),
    },
  ],
  [
    'an objection to a never-shared organisation is noticed, and published as Consent, without naming it',
    {
      persons: [
        person({
          items: [item({})],
          objections: [
            {
              scope: 'organisation',
              org: 'SH001',
              section: 'problems',
              item: 0,
              typedItem: false,
              byDpo: false,
              withdrawn: false,
              overrides: [],
            },
          ],
        }),
      ],
      readers: GP,
      reads: reads('everything', 'section', 'consent'),
    },
  ],
  [
    'the Consent for an objection to one item does not carry the id of a never-shared item',
    {
      persons: [
        person({
          items: [item({ codes: [HIV] }), item({})],
          objections: [
            {
              scope: 'item',
              org: 'Y90001',
              section: 'problems',
              item: 0,
              typedItem: true,
              byDpo: true,
              withdrawn: false,
              overrides: [],
            },
          ],
        }),
      ],
      readers: GP,
      reads: reads('consent'),
    },
  ],
  [
    'a report that is shown does not point at its withheld result',
    {
      persons: [
        person({
          items: [
            item({ type: 'DiagnosticReport', codes: [HBA1C], links: [{ element: 2, to: 0 }] }),
            item({ type: 'Observation', codes: [HIV_TEST] }),
          ],
        }),
      ],
      readers: GP,
      reads: reads('everything'),
    },
  ],
  [
    'a diagnosis coded with the ICD-10 UK edition system is never shared',
    {
      persons: [person({ items: [item({ codes: [icdVariant('B20', 1, 'uk-edition')] }), item({})] })],
      readers: GP,
      reads: reads('everything'),
    },
  ],
  [
    'an item the source labels restricted after sending it is no longer shared',
    {
      persons: [
        person({ items: [item({ revision: { change: 'labels', labels: [RESTRICTED] } }), item({})] }),
      ],
      readers: GP,
      reads: reads('everything'),
    },
  ],
];
