"""Request and response shapes of the institution API (also its OpenAPI schema)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from stakeholders.choices import RowOutcome, UploadFormat, UploadStatus

MAX_BATCH_ROWS = 5000


class ErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. key_revoked.")
    message = serializers.CharField(help_text="Explanation in the reader's language.")
    errors = serializers.DictField(required=False, help_text="Field errors (code 'invalid').")
    retry_after = serializers.IntegerField(required=False, help_text="Seconds (code 429).")


class BatchRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    rows = serializers.ListField(
        child=serializers.DictField(
            child=serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=500),
            allow_empty=False,
        ),
        min_length=1,
        max_length=MAX_BATCH_ROWS,
        help_text=_(
            "Rows keyed by the Indonesian column names of docs/formats.md, e.g. nik, "
            "nama_lengkap, tanggal_lahir and the elements your institution may write."
        ),
    )


class BatchAcceptedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    format = serializers.ChoiceField(choices=UploadFormat.choices)
    status = serializers.ChoiceField(choices=UploadStatus.choices)


class BatchRowSerializer(serializers.Serializer):  # type: ignore[type-arg]
    line = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=RowOutcome.choices, allow_blank=True)
    errors = serializers.ListField(child=serializers.CharField())


class BatchSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    format = serializers.ChoiceField(choices=UploadFormat.choices)
    status = serializers.ChoiceField(choices=UploadStatus.choices)
    refusal = serializers.CharField(allow_blank=True)
    rows_total = serializers.IntegerField()
    rows_done = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField())
    created_at = serializers.DateTimeField()
    applied_at = serializers.DateTimeField(allow_null=True)
    rows = BatchRowSerializer(many=True)


class LookupRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    nik = serializers.CharField(max_length=32, help_text=_("The resident's 16-digit NIK."))


class ResidentSerializer(serializers.Serializer):  # type: ignore[type-arg]
    data = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        help_text=_("The elements your institution may read, by Indonesian column name."),
    )


class FeedQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    since = serializers.IntegerField(min_value=0, default=0, max_value=2**63 - 1)
    limit = serializers.IntegerField(min_value=1, max_value=500, default=100)


class ChangeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField(help_text=_("The change's id; also the feed cursor."))
    registry = serializers.CharField()
    nik = serializers.CharField()
    column = serializers.CharField(help_text=_("The element's Indonesian column name."))
    value = serializers.CharField(allow_blank=True)
    source = serializers.CharField()
    changed_at = serializers.DateTimeField()


class FeedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    changes = ChangeSerializer(many=True)
    next_cursor = serializers.IntegerField(help_text=_("Pass as `since` for the next page."))


class WebhookRequestSerializer(serializers.Serializer):  # type: ignore[type-arg]
    url = serializers.URLField(max_length=300)

    def validate_url(self, value: str) -> str:
        if not value.lower().startswith(("https://", "http://")):
            raise serializers.ValidationError(_("Use an http or https address."))
        return value


class WebhookSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    url = serializers.CharField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        help_text=_("The signing secret, shown only in this response: store it now.")
    )
