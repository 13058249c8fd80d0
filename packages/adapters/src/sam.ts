// Reading SAM templates (template.yaml): for the devrunner's local invoke and cloud, and for tests.
export {
  parseSamTemplate,
  resolveTemplateValue,
  samFunction,
  type SamFunctionDefinition,
  type SamTemplate,
  type TemplateValue,
} from "./sam/sam-template.ts";
