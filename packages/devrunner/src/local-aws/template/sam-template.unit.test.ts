import { describe, expect, it } from "vitest";
import { parseSamTemplate, resolveTemplateValue } from "./sam-template.ts";

describe("parseSamTemplate", () => {
  it("splits a short-form !GetAtt at the first dot only, as CloudFormation does", () => {
    const template = parseSamTemplate(`
Resources:
  Db:
    Type: AWS::RDS::DBInstance
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          HOST: !GetAtt Db.Endpoint.Address
          ARN: !GetAtt Fn.Arn
          LIST: !GetAtt [Db, Endpoint.Port]
`);
    expect(template.resources.Fn?.Properties?.Environment).toEqual({
      Variables: {
        HOST: { "Fn::GetAtt": ["Db", "Endpoint.Address"] },
        ARN: { "Fn::GetAtt": ["Fn", "Arn"] },
        LIST: { "Fn::GetAtt": ["Db", "Endpoint.Port"] },
      },
    });
    const attribute = resolveTemplateValue(
      { "Fn::GetAtt": ["Db", "Endpoint.Address"] },
      {},
      template,
      (id, name) => (id === "Db" && name === "Endpoint.Address" ? "db.local" : undefined),
    );
    expect(attribute).toBe("db.local");
  });
});
