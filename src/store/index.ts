export {
  countItemsBySource,
  itemHistory,
  readItems,
  type ItemQuery,
  type ItemRow,
  type ItemSummary,
  type PolicyFilter,
} from './read.ts';
export {
  deleteItems,
  reassignItems,
  relabelItems,
  writeItems,
  type ItemDelete,
  type ItemWrite,
  type WriteResult,
} from './write.ts';
