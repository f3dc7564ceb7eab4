"""The email request body, with the original service's camelCase field names."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator

MAX_RECIPIENTS = 50

Recipients = Annotated[list[EmailStr], Field(max_length=MAX_RECIPIENTS)]


class EmailRequest(BaseModel):
    """At least one of toEmails, ccEmails and bccEmails names a recipient; the subject is one
    line."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "subject": "Your user management account",
                    "content": "Hello Fname101, your account admin101 is ready.",
                    "toEmails": ["admin101@example.com"],
                }
            ]
        },
    )

    subject: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    content: Annotated[str, StringConstraints(max_length=100_000)]
    to_emails: Recipients = Field(default_factory=list, alias="toEmails")
    cc_emails: Recipients = Field(default_factory=list, alias="ccEmails")
    bcc_emails: Recipients = Field(default_factory=list, alias="bccEmails")

    @model_validator(mode="after")
    def _has_a_recipient(self) -> Self:
        if not (self.to_emails or self.cc_emails or self.bcc_emails):
            raise ValueError("at least one of toEmails, ccEmails, bccEmails is required")
        if "\n" in self.subject or "\r" in self.subject:
            raise ValueError("subject must be a single line")
        return self

    @property
    def recipients(self) -> list[str]:
        return [*self.to_emails, *self.cc_emails, *self.bcc_emails]


class Accepted(BaseModel):
    message: str
    recipients: int


class XRayInfo(BaseModel):
    applicationname: str
    appversion: str
    message: str
    hostname: str
