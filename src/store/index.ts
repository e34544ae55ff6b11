export {
  countItemsBySource,
  itemHistory,
  itemOwner,
  itemRefs,
  readItems,
  readItemVersion,
  visibleAmong,
  withheldKinds,
  type ItemQuery,
  type ItemRow,
  type ItemSummary,
  type ItemVersion,
  type PolicyFilter,
} from './read.ts';
export {
  deleteItems,
  writeItems,
  type ItemDelete,
  type ItemWrite,
  type WriteResult,
  type Written,
} from './write.ts';
export { moveItemRows, reassignItems, type ItemMove } from './move.ts';
export {
  itemsLabelled,
  LINKED_PREFIX,
  propagateLinkedLabels,
  relabelItems,
  setItemLabels,
  type ItemKey,
  type LabelledItem,
} from './labels.ts';
export {
  removeExpired,
  retentionBatch,
  retentionFacts,
  type ItemMatcher,
  type RetentionFactsRow,
  type RetentionPlanRow,
  type RetentionRemoval,
} from './retention.ts';
export {
  readDirectoryEntries,
  writeDirectoryEntries,
  type DirectoryRow,
  type DirectoryWrite,
} from './directory.ts';
