import type { TaskState } from '../../core/model.js';
import { builder } from './builder.js';

/**
 * Tasks counted by state, one field per state plus the total: the shape `viewer.usage` answers
 * with, and any other count by state can reuse (a field per state is what a UI binds to directly).
 */
export const TaskStateCountsRef = builder.objectRef<Readonly<Record<TaskState, number>>>('TaskStateCounts');
TaskStateCountsRef.implement({
  description: 'Tasks counted by the state they are in now.',
  fields: (t) => ({
    queued: t.int({ description: 'Tasks QUEUED.', resolve: (counts) => counts.QUEUED }),
    processing: t.int({ description: 'Tasks PROCESSING.', resolve: (counts) => counts.PROCESSING }),
    succeeded: t.int({ description: 'Tasks SUCCEEDED.', resolve: (counts) => counts.SUCCEEDED }),
    failed: t.int({ description: 'Tasks FAILED.', resolve: (counts) => counts.FAILED }),
    cancelled: t.int({ description: 'Tasks CANCELLED.', resolve: (counts) => counts.CANCELLED }),
    total: t.int({
      description: 'All of them.',
      resolve: (counts) => Object.values(counts).reduce((sum, n) => sum + n, 0),
    }),
  }),
});
