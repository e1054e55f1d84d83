from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models, router
from django.utils.translation import gettext_lazy as _

from accounts import sessions
from config import plainsql


class UserManager(BaseUserManager):
    """Users are known by their email address; there is no username."""

    use_in_migrations = True

    def get(self, *args, **kwargs):
        """One user by primary key (`pk=` or the key's own name, `id=`), which authentication
        asks on every logged-in request: the ORM's query, compiled once and run as plain SQL
        (config/plainsql.py), with the ORM's answers (tests/accounts/test_models.py holds the
        two to the same ones). Every other lookup is the ORM's."""
        meta = self.model._meta
        by_key = len(kwargs) == 1 and set(kwargs) <= {"pk", meta.pk.name, meta.pk.attname}
        if args or not by_key or self._db is not None:
            return super().get(*args, **kwargs)
        # While authentication looks up the user whose row was read with the session
        # (accounts/sessions.py): that row, not another query.
        if (user := sessions.user_read_with_session(next(iter(kwargs.values())))) is not None:
            return user
        names = [field.attname for field in meta.concrete_fields]
        values = plainsql.select_one(self.model, names, pk=next(iter(kwargs.values())))
        if values is None:
            raise self.model.DoesNotExist(f"{meta.object_name} matching query does not exist.")
        return self.model.from_db(router.db_for_read(self.model), names, values)

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        user = self._create_user(email, password, **extra_fields)
        # The operator typed this address on the server: it needs no emailed code before the
        # first log-in (readers' addresses do).
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        return user


class User(AbstractUser):
    username = None
    email = models.EmailField(_("email address"), unique=True)
    lesson_emails = models.BooleanField(
        _("new-lesson e-mails"),
        default=False,
        help_text=_(
            "E-mail me when a new lesson comes out in a series I have access to. Every e-mail "
            "has a link to stop them."
        ),
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_(
            "The language of the e-mails the reader gets: the one they signed up in, or last "
            "read the site in while logged in."
        ),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [models.Index(fields=["date_joined"], name="user_joined_at")]

    def __str__(self):
        return self.email


class Session(AbstractBaseSession):
    """A visitor's session (accounts/sessions.py), with the user it logs in, so that a
    logged-in request reads the two in one query. `user` is written from the session's data
    each time Django saves it; deleting a user deletes their sessions."""

    user = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
        help_text=_("Who the session logs in (empty: nobody), as its data says."),
    )

    @classmethod
    def get_session_store_class(cls):
        return sessions.SessionStore
