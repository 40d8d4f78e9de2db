"""Invitations in the API.

Owners: `GET/POST households/{id}/invitations/`, `POST households/{id}/invitations/{n}/revoke/` (in views.py).
The invited person: `GET invitations/`, `GET invitations/{n}/`, `POST invitations/{n}/accept/`,
`POST invitations/{n}/decline/`, and `POST invitations/accept/` with the code the owner shared.

What an owner sees of an invitation is only what they typed: never whether it named anyone.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from financetracker.authenticated import AuthenticatedRequest
from financetracker.core.api.strict import StrictModelSerializer, StrictSerializer
from ledger.api.serializers import MembershipSerializer
from ledger.models import Invitation, Role
from ledger.models.invitations import INVITATION_STATES
from ledger.selectors import invitations_received
from ledger.services import invitations as services


class InvitationCreateSerializer(StrictSerializer):
    editable = services.INVITATION_EDITABLE_FIELDS  # by source: `invitee` is the service's `invited_as`
    invitee = serializers.CharField(
        source="invited_as", max_length=254, help_text="The username or e-mail address of the person."
    )
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSerializer(StrictModelSerializer):
    """An invitation as the household's owners see it."""

    invitee = serializers.CharField(source="invited_as", read_only=True)
    status = serializers.ChoiceField(source="state", read_only=True, choices=INVITATION_STATES)
    invited_by = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = ["id", "invitee", "role", "status", "invited_by", "created_at", "expires_at", "responded_at"]
        read_only_fields = fields

    def get_invited_by(self, invitation: Invitation) -> str | None:
        return invitation.invited_by.get_username() if invitation.invited_by is not None else None


class InvitationCreatedSerializer(InvitationSerializer):
    code = serializers.CharField(read_only=True, help_text="Shown once: the invited person accepts with it.")

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "code"]
        read_only_fields = fields


class ReceivedInvitationSerializer(InvitationSerializer):
    """An invitation as the invited person sees it: which household, which role, from whom."""

    household_name = serializers.CharField(source="household.name", read_only=True)

    class Meta(InvitationSerializer.Meta):
        fields = ["id", "household", "household_name", "role", "status", "invited_by", "created_at", "expires_at"]
        read_only_fields = fields


class InvitationCodeSerializer(StrictSerializer):
    code = serializers.CharField(max_length=100, trim_whitespace=True)


class ReceivedInvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The signed-in person's pending invitations; accepting one makes them a member of its household."""

    serializer_class = ReceivedInvitationSerializer
    permission_classes = [IsAuthenticated]
    filter_backends: list[Any] = []
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Any]:
        return invitations_received(self.request.user)

    def _mine(self, pk: str | None) -> Invitation:
        # Any state, so an expired or revoked one answers 409 with a reason; someone else's is a 404.
        invitation = (
            Invitation.objects.select_related("household").filter(pk=str(pk), invitee_id=self.request.user.pk).first()
        )
        if invitation is None:
            raise NotFound()
        return invitation

    @extend_schema(request=None, responses={200: MembershipSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        """Join the household with the invitation's role (409 when it expired, was revoked or answered)."""
        membership = services.invitation_accept(invitation=self._mine(pk), user=request.user)
        return Response(MembershipSerializer(membership).data)

    @extend_schema(request=None, responses={200: ReceivedInvitationSerializer})
    @action(detail=True, methods=["post"])
    def decline(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        invitation = services.invitation_decline(invitation=self._mine(pk), user=request.user)
        return Response(self.get_serializer(invitation).data)

    @extend_schema(
        operation_id="invitations_accept_code", request=InvitationCodeSerializer, responses={200: MembershipSerializer}
    )
    @action(detail=False, methods=["post"], url_path="accept", url_name="accept-code")
    def accept_code(self, request: AuthenticatedRequest) -> Response:
        """Accept with the code the owner shared (for an invitation made before you had an account)."""
        payload = InvitationCodeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        invitation = services.invitation_for_code(code=payload.validated_data["code"], user=request.user)
        if invitation is None:
            raise NotFound("No invitation for you has this code.")
        membership = services.invitation_accept(invitation=invitation, user=request.user)
        return Response(MembershipSerializer(membership).data, status=status.HTTP_200_OK)
