"""A PIN of a fourth kind: paid on the site, issued by payments/ for an order the gateway
settled, which the sales dashboard counts apart from the PINs sold by DM. No PIN changes
kind: none were paid on the site before this release."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('access', '0012_offers_from_series'),
    ]

    operations = [
        migrations.AlterField(
            model_name='accesspin',
            name='kind',
            field=models.CharField(choices=[('sale', 'Sold to a buyer'), ('promotion', 'Promotion or batch'), ('replacement', 'Replacement of a lost PIN'), ('paid', 'Paid on the site')], default='promotion', editable=False, help_text='Sold: one PIN for one reader, made for a buyer; a promotion or batch: made several at a time, with several uses or a batch label; a replacement: for a lost PIN; paid on the site: issued for an order the reader paid on the site.', max_length=12, verbose_name='kind'),
        ),
    ]
