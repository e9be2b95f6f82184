import type { SceneType } from '../../config/scene-types.js';
import { builder } from './builder.js';

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
