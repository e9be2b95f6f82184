import type { SceneType } from '../../config/scene-types.js';
import { builder } from './builder.js';

const SceneTypeSourceRef = builder.enumType('SceneTypeSource', {
  description: 'Where a catalogue entry comes from.',
  values: {
    BUILT_IN: { description: 'The built-in catalogue: an id seen in public PicWish client code.' },
    FILE: { description: 'SCENE_TYPES_FILE: configured by the operator, not checked by the gateway.' },
  } as const,
});

const SceneTypeRef = builder.objectRef<SceneType>('SceneType');
SceneTypeRef.implement({
  description: 'A background template, passed to PicWish as `scene_type`.',
  fields: (t) => ({
    id: t.exposeInt('id', { description: 'The id to put in `background.sceneType`.' }),
    name: t.exposeString('name', { description: 'A short name for pickers.' }),
    description: t.exposeString('description', {
      nullable: true,
      description: 'What the template looks like.',
    }),
    source: t.expose('source', { type: SceneTypeSourceRef, description: 'Where this entry comes from.' }),
  }),
});

builder.queryFields((t) => ({
  sceneTypes: t.field({
    type: [SceneTypeRef],
    description:
      'The configured template catalogue (SCENE_TYPES_FILE). Ids outside it are still passed to PicWish unchecked.',
    resolve: (_root, _args, ctx) => ctx.services.sceneTypes,
  }),
}));
