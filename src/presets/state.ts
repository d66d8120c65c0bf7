import { Type, type Static } from '@sinclair/typebox';

export const AbSlotSchema = Type.Union([Type.Literal('A'), Type.Literal('B')]);
export type AbSlot = Static<typeof AbSlotSchema>;

/** The box's state as automation sees it (MQTT `<base>/state`, snake_case as Home Assistant expects). */
export const BoxStateSchema = Type.Object({
  preset: Type.Union([Type.String(), Type.Null()], { description: 'name of the preset last recalled' }),
  preset_id: Type.Union([Type.String(), Type.Null()]),
  preset_modified: Type.Boolean({ description: 'parameters changed since the preset was recalled' }),
  bypass: Type.Union([Type.Boolean(), Type.Null()], { description: 'master.bypass; null when the engine has no such parameter' }),
  params: Type.Record(Type.String(), Type.Number()),
  profile: Type.Union([Type.String(), Type.Null()], { description: "I/O profile (studio, balanced, streaming, lowlatency, or 'custom'); null when unknown" }),
  engine_state: Type.String(),
  ab_active: Type.Union([AbSlotSchema, Type.Null()]),
  locked: Type.Array(Type.String()),
});
export type BoxState = Static<typeof BoxStateSchema>;
