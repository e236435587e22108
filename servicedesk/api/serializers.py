"""Serializers shared by every app's API: the error body, tokens, references to people."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from servicedesk.models import User


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Stable machine-readable code, e.g. not_found."))
    message = serializers.CharField(help_text=_("One human sentence naming the problem."))
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("Messages per input field; empty when no field is to blame."),
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer (documented as the ``Error`` component)."""

    error = ErrorDetailSerializer()


class TokenObtainSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=128, trim_whitespace=False, style={"input_type": "password"}
    )
    name = serializers.CharField(
        max_length=100, required=False, default="API", help_text=_("A label to recognise it by.")
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text=_("Send as 'Authorization: Token <token>'. Shown once.")
    )
    name = serializers.CharField()
    prefix = serializers.CharField(help_text=_("First characters, to recognise the token."))
    created_at = serializers.DateTimeField()


class UserRefSerializer(serializers.ModelSerializer):
    """A person as other records show them: id and display name."""

    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["id", "name"]
        read_only_fields = fields
